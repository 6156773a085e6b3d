"""The feeds' recurring job: an adapter for the scheduler, listed in the slice manifest.

``poll_due_feeds`` runs every ``CERT_FEEDS_POLL_INTERVAL`` seconds and polls, one at a time,
the enabled feeds with an interval whose last run is older than it (a feed never polled is due
at once). Each poll is its own units of work (the run's start, each page, its end), so one
failing feed changes nothing of another; a feed polled meanwhile (a lead's button) is no longer
due and is skipped: running the job twice polls nothing twice. A scheduled run left ``running``
by a scheduler killed mid-poll is closed first (:func:`~feeds.sources.runs.close_interrupted_runs`);
its feed is still due (its last run never finished) and is polled again from its checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from core.jobs import JobContext
from feeds.models import Feed, FeedRun, RunStatus, RunTrigger
from feeds.settings import FeedSettings
from feeds.sources.fetch import Http, RequestsHttp
from feeds.sources.poll import poll_feed
from feeds.sources.runs import INTERRUPTED_RUNS, close_interrupted_runs
from feeds.sources.services import is_due


def poll_due_feeds(context: JobContext, http: Http | None = None) -> Mapping[str, int]:
    """Poll every feed due now; counts of feeds polled, failed and indicators new/updated."""
    settings = context.settings.get("feeds")
    if not isinstance(settings, FeedSettings):
        settings = FeedSettings()
    client = http or RequestsHttp(settings)
    with context.unit_of_work() as uow:  # looked for first: writing takes SQLite's write lock
        if uow.session.scalar(select(FeedRun.id).where(*INTERRUPTED_RUNS).limit(1)) is not None:
            close_interrupted_runs(uow.write(), now=context.clock.now())
            uow.commit()
    with context.unit_of_work() as uow:
        ids = list(
            uow.session.scalars(
                select(Feed.id)
                .where(Feed.enabled.is_(True), Feed.interval_seconds.is_not(None))
                .order_by(Feed.id)
            )
        )
    counts = {"polled": 0, "failed": 0, "new": 0, "updated": 0}
    for feed_id in ids:
        with context.unit_of_work() as uow:
            feed = uow.session.get(Feed, feed_id)
            if feed is None or not is_due(feed, context.clock.now()):
                continue
            uow.commit()
            run = poll_feed(
                uow, uow.acting, feed, client, clock=context.clock, trigger=RunTrigger.SCHEDULE
            )
            counts["polled"] += 1
            counts["failed"] += run.status is RunStatus.FAILED
            counts["new"] += run.new
            counts["updated"] += run.updated
    return counts
