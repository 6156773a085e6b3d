"""Routes of this feature (registered on :mod:`bulletins.blueprints` when imported by
:mod:`bulletins.routes`)."""

from __future__ import annotations

from bulletins import blueprints  # noqa: F401
