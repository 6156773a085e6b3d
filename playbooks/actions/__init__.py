"""Vigie's command executors (manual, http-api, the x-vigie vocabulary), registered
with the engine."""

from playbooks.actions import exposure as exposure  # noqa: E402 — registers its executor
from playbooks.actions import reviews as reviews  # noqa: E402 — registers theirs
