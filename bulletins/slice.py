"""Everything the bulletins slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from bulletins import commands, demo, events, handlers, models, routes, settings
from bulletins.authoring import panel
from bulletins.csaf import export as csaf_export
from bulletins.outputs import html, pdf, text
from bulletins.stix import report
from core.slices import Demo, Job, Slice

# imported for their renditions: they register in bulletins.outputs.formats
RENDITIONS = (html, text, pdf, csaf_export, report)

SLICE = Slice(
    name="bulletins",
    pages=routes.PAGES,
    api=(routes.API,),
    commands=commands.GROUPS,
    models=(models,),
    settings=settings.from_config,
    events=(events.BulletinEventName,),
    handlers=handlers.HANDLERS,
    panels=panel.PANELS,
    demo=Demo(seed=demo.seed),
    jobs=(
        Job(
            "bulletins.digests",
            "bulletins.digests.jobs:send_due_digests",
            "bulletin_digest_interval_seconds",
        ),
    ),
)
