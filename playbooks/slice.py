"""Everything the playbooks slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from core.slices import Slice
from playbooks import commands, events, models, routes, settings
from playbooks.pages import panel

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
    panels=panel.PANELS,
)
"""CACAO playbooks before and after incidents: library, engine, triggers and schedules."""
