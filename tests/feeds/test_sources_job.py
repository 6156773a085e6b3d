"""The scheduler's ``feeds.poll_due`` job on committed data (both backends): it polls the
enabled feeds whose interval has passed, one at a time, each in its own transactions; running
it again at the same time polls nothing; a failing feed does not stop the others; it is in the
slice's manifest with ``CERT_FEEDS_POLL_INTERVAL``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.config import load_config
from core.identity.authz import Actor
from core.jobs import JobContext
from feeds.models import Feed, FeedRun, RunStatus, RunTrigger
from feeds.settings import FeedSettings
from feeds.slice import SLICE
from feeds.sources.jobs import poll_due_feeds
from feeds.sources.services import add_feed
from tests.kit.taxii import COLLECTION, PASSWORD, USER, Taxii, taxii_server

ENV = "VIGIE_TEST_TAXII_PASSWORD"
START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def taxii(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Taxii]:
    with taxii_server(tmp_path_factory.mktemp("taxii"), count=40, page_size=15) as server:
        yield server


def _context(factory: sessionmaker[Session], clock: FrozenClock) -> JobContext:
    with factory() as session:
        engine = session.get_bind().engine
    return JobContext(
        config=load_config({"secret_key": "k" * 40}, environ={}),
        engine=engine,
        session_factory=factory,
        clock=clock,
        runner="test:1",
        settings={"feeds": FeedSettings(allow_private=True)},
    )


def _add(factory: sessionmaker[Session], name: str, url: str, **extra: object) -> None:
    data = {
        "name": name,
        "kind": "taxii",
        "url": url,
        "collection": COLLECTION,
        "username": USER,
        "password_env": ENV,
        "interval_seconds": 600,
    } | extra
    with factory() as session, session.begin():
        add_feed(session, Actor.system("test"), data, now=START)


def _runs(factory: sessionmaker[Session]) -> list[tuple[str, RunStatus, RunTrigger, int]]:
    with factory() as session:
        rows = session.execute(
            select(Feed.name, FeedRun.status, FeedRun.trigger, FeedRun.new)
            .join(Feed)
            .order_by(FeedRun.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_job_is_in_the_manifest() -> None:
    [job] = SLICE.jobs
    assert (job.name, job.target, job.interval) == (
        "feeds.poll_due",
        "feeds.sources.jobs:poll_due_feeds",
        "feeds_poll_interval_seconds",
    )


@pytest.mark.slow
def test_due_feeds_are_polled_once_per_interval(
    factory: sessionmaker[Session], taxii: Taxii, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, PASSWORD)
    clock = FrozenClock(START)
    _add(factory, "every-10-min", taxii.discovery)
    _add(factory, "broken", "http://127.0.0.1:9/taxii2/")
    _add(factory, "by-hand", taxii.discovery, interval_seconds=None)
    _add(factory, "disabled", taxii.discovery, enabled=False)
    context = _context(factory, clock)

    first = poll_due_feeds(context)
    assert first == {"polled": 2, "failed": 1, "new": 40, "updated": 0}
    assert _runs(factory) == [
        ("every-10-min", RunStatus.SUCCEEDED, RunTrigger.SCHEDULE, 40),
        ("broken", RunStatus.FAILED, RunTrigger.SCHEDULE, 0),
    ]

    assert poll_due_feeds(context)["polled"] == 0, "nothing is due twice"
    clock.advance(seconds=599)
    assert poll_due_feeds(context)["polled"] == 0
    clock.advance(seconds=1)
    assert poll_due_feeds(context) == {"polled": 2, "failed": 1, "new": 0, "updated": 0}
    with factory() as session:
        feed = session.scalars(select(Feed).where(Feed.name == "every-10-min")).one()
        assert feed.last_run_at == START + dt.timedelta(seconds=600)
        assert feed.checkpoint is not None
