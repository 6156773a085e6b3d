"""The playbooks slice's schedule job (a scheduler adapter, listed in
:data:`playbooks.slice.SLICE`)."""

from __future__ import annotations

from collections.abc import Mapping

from core.jobs import JobContext
from playbooks.automation.firing import fire_due_schedules
from playbooks.settings import PlaybookSettings


def fire_schedules(context: JobContext) -> Mapping[str, int]:
    """Every ``CERT_PLAYBOOK_SCHEDULES_INTERVAL`` seconds: start the runs of the due schedules."""
    settings = context.settings.get("playbooks")
    if not isinstance(settings, PlaybookSettings):
        settings = PlaybookSettings()
    return fire_due_schedules(context.session_factory, clock=context.clock, settings=settings)
