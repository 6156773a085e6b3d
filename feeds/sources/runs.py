"""Run rows: one :class:`feeds.models.FeedRun` per import or poll (use case, Flask-free; flushes,
never commits).

:func:`start_run` opens a ``running`` row; :func:`finish_run` closes it with what the store
counted and the status:

* ``succeeded`` — every object accepted;
* ``partial`` — some objects rejected (the valid ones kept), or a poll that stored pages and then
  failed (``error`` set, counts given);
* ``failed`` — nothing stored (``error`` set, no counts).

It copies the status and counts onto the feed (``last_run_at``, ``last_status``,
``last_counts``) and, when the run added or changed indicators, records the
``feed.indicators_changed`` event in the same transaction (the retro-hunt's trigger).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.events import Event, record_event
from feeds.events import AGGREGATE, FeedEventName, IndicatorsChanged
from feeds.index.store import StoreCounts
from feeds.models import Feed, FeedRun, RunStatus, RunTrigger

REJECTIONS_KEPT = 1000
INTERRUPTED = (
    "interrupted: the scheduler stopped before this poll finished; the pages it stored were"
    " kept and the next poll went on from their checkpoint"
)


def start_run(
    session: Session,
    feed: Feed,
    trigger: RunTrigger,
    *,
    now: dt.datetime,
    document: str | None = None,
) -> FeedRun:
    """A ``running`` run of ``feed`` (flushed: it has its id)."""
    run = FeedRun(
        feed_id=feed.id,
        feed=feed,
        trigger=trigger,
        status=RunStatus.RUNNING,
        started_at=now,
        document=document[:300] if document else None,
        checkpoint_before=feed.checkpoint,
        rejections=[],
    )
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run: FeedRun,
    counts: StoreCounts | None,
    *,
    now: dt.datetime,
    error: str | None = None,
) -> None:
    """Close ``run`` (see the module's statuses) and record what it changed."""
    feed = run.feed
    if counts is not None:
        run.new, run.updated, run.unchanged = counts.new, counts.updated, counts.unchanged
        run.revoked, run.expired = counts.revoked, counts.expired
        run.rejected, run.skipped = counts.rejected, counts.skipped
        run.rejections = list(counts.rejections[:REJECTIONS_KEPT])
    run.status = status(counts, error)
    run.error = error
    run.finished_at = now
    run.checkpoint_after = feed.checkpoint
    feed.last_run_at, feed.last_status, feed.last_counts = now, run.status, run.counts()
    session.flush()
    if counts is not None and counts.new + counts.updated > 0:
        payload = IndicatorsChanged(
            feed_id=feed.id,
            run_id=run.id,
            since=run.started_at,
            new=counts.new,
            updated=counts.updated,
        )
        event = Event(
            FeedEventName.INDICATORS_CHANGED,
            payload,
            aggregate_type=AGGREGATE,
            aggregate_id=feed.name,
            actor_label=f"system:feed-run:{run.id}",
        )
        record_event(session, event, clock=FrozenClock(now))


def status(counts: StoreCounts | None, error: str | None) -> RunStatus:
    """``failed`` with nothing stored, ``partial`` with rejections or a late error."""
    if counts is None:
        return RunStatus.FAILED
    if error is not None or counts.rejected:
        return RunStatus.PARTIAL
    return RunStatus.SUCCEEDED


# scheduled runs still open (see close_interrupted_runs)
INTERRUPTED_RUNS = (FeedRun.status == RunStatus.RUNNING, FeedRun.trigger == RunTrigger.SCHEDULE)


def close_interrupted_runs(session: Session, *, now: dt.datetime) -> int:
    """Close the scheduled runs left ``running`` by a scheduler that died mid-poll; how many.

    For the scheduler's poll job only, before it polls: only one scheduler (the leader) polls on
    schedule, one feed at a time, so a scheduled run still ``running`` when the job starts is
    one whose process was killed. It becomes ``partial`` when it had moved the checkpoint (its
    pages are kept), ``failed`` otherwise, with :data:`INTERRUPTED` as its error; the feed's own
    last status is left to the poll that follows.
    """
    stale = session.scalars(select(FeedRun).where(*INTERRUPTED_RUNS)).all()
    for run in stale:
        moved = run.feed.checkpoint != run.checkpoint_before
        run.status = RunStatus.PARTIAL if moved else RunStatus.FAILED
        run.error, run.finished_at, run.checkpoint_after = INTERRUPTED, now, run.feed.checkpoint
    session.flush()
    return len(stale)
