"""Everything the playbooks slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from core.slices import Job, Slice
from playbooks import actions, commands, events, models, routes, settings

EXECUTORS = actions  # imported for its side effect: the command executors are registered

SLICE = Slice(
    name="playbooks",
    pages=routes.PAGES,
    api=(routes.API,),
    commands=(commands.playbooks,),
    jobs=(
        Job(
            "playbooks.fire_schedules",
            "playbooks.automation.jobs:fire_schedules",
            "playbook_schedules_interval_seconds",
        ),
    ),
    models=(models,),
    settings=settings.from_config,
    events=(events.PlaybookEventName,),
    handlers=(),
)
"""CACAO playbooks before and after incidents: library, engine, triggers and schedules."""
