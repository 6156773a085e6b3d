"""Everything the bulletins slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from bulletins import events, models, settings
from core.slices import Slice

SLICE = Slice(
    name="bulletins",
    models=(models,),
    settings=settings.from_config,
    events=(events.BulletinEventName,),
)
"""Alert bulletins: writing, review, publication (outputs and distribution land next)."""
