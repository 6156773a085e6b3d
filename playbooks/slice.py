"""Everything the playbooks slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from core.slices import Demo, Job, Slice
from playbooks import actions, commands, demo, events, metrics, models, routes, settings
from playbooks.automation import handlers as automation_handlers
from playbooks.engine import handlers as engine_handlers
from playbooks.pages import panel

EXECUTORS = actions  # imported for its executors: they register with the engine

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
        Job(
            "playbooks.advance", "playbooks.engine.jobs:advance_runs", "playbooks_interval_seconds"
        ),
    ),
    models=(models,),
    settings=settings.from_config,
    events=(events.PlaybookEventName,),
    handlers=(*engine_handlers.HANDLERS, *automation_handlers.HANDLERS),
    panels=panel.PANELS,
    demo=Demo(seed=demo.seed),
    metrics=metrics.playbook_metrics,
)
"""CACAO playbooks before and after incidents: library, engine, triggers and schedules."""
