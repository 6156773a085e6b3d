"""Run rows (:mod:`feeds.sources.runs`) on both databases: the three statuses, the feed's last
run, the rejections kept, and the ``feed.indicators_changed`` event only when something changed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.events.store import DomainEvent
from core.markings import Tlp
from feeds.index.store import StoreCounts
from feeds.models import Feed, FeedKind, RunStatus, RunTrigger
from feeds.sources.runs import INTERRUPTED, close_interrupted_runs, finish_run, start_run

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=2)


def _feed(session: Session) -> Feed:
    feed = Feed(
        name="partner",
        kind=FeedKind.STIX_URL,
        default_tlp=Tlp.GREEN,
        created_at=NOW,
        checkpoint="c1",
    )
    session.add(feed)
    session.flush()
    return feed


def _events(session: Session) -> list[DomainEvent]:
    return list(
        session.scalars(select(DomainEvent).where(DomainEvent.name == "feed.indicators_changed"))
    )


def test_a_run_with_changes_records_the_event(db_session: Session) -> None:
    feed = _feed(db_session)
    run = start_run(
        db_session, feed, RunTrigger.SCHEDULE, now=NOW, document="https://x.example/b.json"
    )
    assert (run.id, run.status, run.checkpoint_before) == (run.id, RunStatus.RUNNING, "c1")
    feed.checkpoint = "c2"
    counts = StoreCounts(new=3, updated=1, unchanged=5, skipped=2)
    finish_run(db_session, run, counts, now=LATER)
    assert (run.status, run.finished_at, run.checkpoint_after) == (RunStatus.SUCCEEDED, LATER, "c2")
    assert (run.new, run.updated, run.unchanged, run.skipped) == (3, 1, 5, 2)
    assert (feed.last_status, feed.last_run_at, feed.last_counts["new"]) == (
        RunStatus.SUCCEEDED,
        LATER,
        3,
    )
    (event,) = _events(db_session)
    assert event.payload["run_id"] == run.id and event.payload["new"] == 3
    assert event.payload["updated"] == 1 and event.aggregate_id == "partner"


def test_partial_and_failed_runs(db_session: Session) -> None:
    feed = _feed(db_session)
    rejected = StoreCounts(unchanged=1, rejected=1500)
    rejected.rejections = [{"ref": f"indicator--{n}", "reason": "bad"} for n in range(1500)]
    run = start_run(db_session, feed, RunTrigger.MANUAL, now=NOW)
    finish_run(db_session, run, rejected, now=LATER)
    assert (run.status, run.rejected, len(run.rejections)) == (RunStatus.PARTIAL, 1500, 1000)
    late = start_run(db_session, feed, RunTrigger.SCHEDULE, now=NOW)
    finish_run(db_session, late, StoreCounts(unchanged=2), now=LATER, error="page 3: timeout")
    assert (late.status, late.error) == (RunStatus.PARTIAL, "page 3: timeout")
    failed = start_run(db_session, feed, RunTrigger.SCHEDULE, now=NOW)
    finish_run(db_session, failed, None, now=LATER, error="answered HTTP 503")
    assert (failed.status, failed.new, feed.last_status) == (RunStatus.FAILED, 0, RunStatus.FAILED)
    assert _events(db_session) == []  # nothing changed: no event


def test_scheduled_runs_left_running_by_a_dead_scheduler_are_closed(db_session: Session) -> None:
    """What a killed leader leaves (tests/feeds/test_poll_failover.py kills one for real)."""
    feed = _feed(db_session)
    other = Feed(name="other", kind=FeedKind.STIX_URL, default_tlp=Tlp.GREEN, created_at=NOW)
    db_session.add(other)
    db_session.flush()
    moved = start_run(db_session, feed, RunTrigger.SCHEDULE, now=NOW)
    feed.checkpoint = "c2"  # a page was stored before the scheduler died
    still = start_run(db_session, other, RunTrigger.SCHEDULE, now=NOW)
    by_hand = start_run(db_session, other, RunTrigger.CLI, now=NOW)  # another process's: kept
    done = start_run(db_session, feed, RunTrigger.SCHEDULE, now=NOW)
    finish_run(db_session, done, StoreCounts(new=1), now=NOW)
    assert close_interrupted_runs(db_session, now=LATER) == 2
    assert (moved.status, moved.error, moved.finished_at) == (RunStatus.PARTIAL, INTERRUPTED, LATER)
    assert (moved.checkpoint_before, moved.checkpoint_after) == ("c1", "c2")
    assert (still.status, still.error, still.checkpoint_after) == (
        RunStatus.FAILED,
        INTERRUPTED,
        None,
    )
    assert by_hand.status == RunStatus.RUNNING and done.status == RunStatus.SUCCEEDED
    assert feed.last_run_at == NOW  # the feed's last run is the next poll's to set
    assert close_interrupted_runs(db_session, now=LATER) == 0
