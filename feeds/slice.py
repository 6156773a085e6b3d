"""Everything the feeds slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from core.slices import Slice
from feeds import events, models, routes, settings

SLICE = Slice(
    name="feeds",
    api=(routes.API,),
    models=(models,),
    settings=settings.from_config,
    events=(events.FeedEventName,),
)
