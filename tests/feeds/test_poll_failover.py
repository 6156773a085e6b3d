"""A feed poll whose scheduler leader is killed (``kill -9``) between two pages: the standby takes
over, polls the feed again from the checkpoint the dead leader committed, imports nothing twice,
and the dead leader's run is closed as interrupted instead of staying ``running`` for ever."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.identity.authz import Actor
from feeds.models import Feed, FeedRun, Indicator, RunStatus, RunTrigger
from feeds.sources.runs import INTERRUPTED
from feeds.sources.services import add_feed
from tests.dbs import TestDatabase
from tests.feeds.slow_taxii import slow_taxii
from tests.kit.scheduler import SchedulerProcess, elect, scheduler_env, wait_until
from tests.kit.taxii import COLLECTION, PASSWORD, USER, Taxii, taxii_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
STARTUP = 180  # seconds for a process to start and elect: generous, for a loaded machine

COUNT, PAGE = 300, 50  # six pages of indicators
ENV = "VIGIE_TEST_TAXII_PASSWORD"


@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for process in started:
        process.close()


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[Taxii]:
    with taxii_server(tmp_path, count=COUNT, page_size=PAGE) as server:
        yield server


def _feed(factory: sessionmaker[Session], url: str) -> int:
    data = {
        "name": "slow-taxii",
        "kind": "taxii",
        "url": url,
        "collection": COLLECTION,
        "username": USER,
        "password_env": ENV,
        "interval_seconds": 3600,
    }
    with factory() as session, session.begin():
        feed = add_feed(session, Actor.system("test"), data, now=dt.datetime.now(dt.UTC))
        return feed.id


def _state(factory: sessionmaker[Session], feed_id: int) -> tuple[Feed, list[FeedRun], int]:
    with factory() as session:
        feed = session.get_one(Feed, feed_id)
        runs = list(
            session.scalars(select(FeedRun).where(FeedRun.feed_id == feed_id).order_by(FeedRun.id))
        )
        count = session.scalar(
            select(func.count()).select_from(Indicator).where(Indicator.feed_id == feed_id)
        )
        session.expunge_all()
        return feed, runs, count or 0


@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_the_standby_resumes_a_poll_from_the_checkpoint_without_importing_twice(
    fresh_database: TestDatabase,
    factory: sessionmaker[Session],
    tmp_path: Path,
    medallion: Taxii,
    processes: list[SchedulerProcess],
) -> None:
    with slow_taxii(f"http://127.0.0.1:{medallion.port}", delay=1.0) as slow:
        feed_id = _feed(factory, slow.api_root)
        env = {
            **scheduler_env(fresh_database.url, tmp_path),
            ENV: PASSWORD,
            "CERT_FEEDS_ALLOW_PRIVATE": "1",
            "CERT_FEEDS_POLL_INTERVAL": "1",
        }
        processes += [SchedulerProcess(env), SchedulerProcess(env)]
        leader, standby = elect(processes, STARTUP)
        # two pages committed (checkpoint and indicators), the poll still going: kill -9
        wait_until(lambda: _state(factory, feed_id)[2] >= 2 * PAGE, 120, "two pages stored")
        leader.kill()
        _, runs, stored_before = _state(factory, feed_id)
        assert PAGE * 2 <= stored_before < COUNT, stored_before
        killed_checkpoint = _state(factory, feed_id)[0].checkpoint
        assert killed_checkpoint is not None
        assert [run.status for run in runs] == [RunStatus.RUNNING]

        standby.wait_for(f"scheduler: leader (pid {standby.pid}", 30)
        wait_until(lambda: _finished(factory, feed_id), 120, "the standby's poll to finish")
        feed, runs, stored = _state(factory, feed_id)
        pages = slow.objects_pages()

    assert stored == COUNT  # every indicator once: (feed, source_ref) rows, none doubled
    dead, resumed = runs
    # the dead leader's run, closed by the new leader: partial (its pages kept), interrupted
    assert (dead.status, dead.error) == (RunStatus.PARTIAL, INTERRUPTED)
    assert dead.checkpoint_after == killed_checkpoint and dead.finished_at is not None
    assert (resumed.status, resumed.trigger) == (RunStatus.SUCCEEDED, RunTrigger.SCHEDULE)
    assert resumed.checkpoint_before == killed_checkpoint
    # the resumed poll asked only for what was added after the checkpoint: nothing re-imported
    assert resumed.new == COUNT - stored_before and resumed.updated == resumed.unchanged == 0
    assert pages[0].get("added_after") is None  # the dead leader started from the beginning
    after = [page for page in pages if page.get("added_after") and "next" not in page]
    assert [page["added_after"] for page in after] == [[killed_checkpoint]]
    assert feed.checkpoint == resumed.checkpoint_after and feed.last_status == RunStatus.SUCCEEDED


def _finished(factory: sessionmaker[Session], feed_id: int) -> bool:
    _, runs, _ = _state(factory, feed_id)
    return any(run.status != RunStatus.RUNNING for run in runs[1:])
