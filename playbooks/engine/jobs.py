"""The engine's scheduler job (adapter): ``playbooks.advance`` advances the due runs
(:func:`playbooks.engine.runner.advance_due_runs`) every ``CERT_PLAYBOOKS_INTERVAL`` seconds."""

from __future__ import annotations

from collections.abc import Mapping

from core.jobs import JobContext
from playbooks.engine.runner import advance_due_runs
from playbooks.settings import PlaybookSettings


def advance_runs(context: JobContext) -> Mapping[str, int]:
    settings = context.settings.get("playbooks")
    return advance_due_runs(
        context.session_factory,
        clock=context.clock,
        settings=settings if isinstance(settings, PlaybookSettings) else PlaybookSettings(),
    )
