"""Everything the playbooks slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from core.slices import Demo, Slice
from playbooks import commands, demo, events, models, routes, settings

SLICE = Slice(
    name="playbooks",
    pages=routes.PAGES,
    api=(routes.API,),
    commands=(commands.playbooks,),
    jobs=(),
    models=(models,),
    settings=settings.from_config,
    events=(events.PlaybookEventName,),
    handlers=(),
    demo=Demo(seed=demo.seed),
)
"""CACAO playbooks before and after incidents: library, engine, triggers and schedules."""
