"""Everything the feeds slice contributes to the application, in one manifest
(:class:`core.slices.Slice`), listed by :data:`cert.slices_list.SLICES`."""

from __future__ import annotations

from core.slices import Demo, Job, Slice
from feeds import commands, demo, events, metrics, models, routes, settings

SLICE = Slice(
    name="feeds",
    pages=routes.PAGES,
    api=(routes.API,),
    commands=(commands.feeds,),
    jobs=(
        Job(
            "feeds.poll_due",
            "feeds.sources.jobs:poll_due_feeds",
            "feeds_poll_interval_seconds",
        ),
    ),
    models=(models,),
    settings=settings.from_config,
    events=(events.FeedEventName,),
    demo=Demo(seed=demo.seed),
    metrics=metrics.feed_metrics,
)
"""Sources of intelligence: feeds, their polling and imports, and their runs."""
