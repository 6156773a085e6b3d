"""Polling a real TAXII 2.1 server (OASIS medallion on loopback, 50 objects a page) into the
index, on both databases: pagination, the ``X-TAXII-Date-Added-Last`` checkpoint, nothing
re-imported, objects added later picked up, a failure or a truncated page mid-way resumed from
the last stored page, and the server's refusals as clear run errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import User
from core.uow import UnitOfWork
from feeds.index.lookup import match_observables
from feeds.models import Feed, FeedRun, Indicator, RunStatus, RunTrigger
from feeds.settings import FeedSettings
from feeds.sources.fetch import FetchError, Http, RequestsHttp, Response
from feeds.sources.poll import poll_feed
from feeds.sources.services import add_feed
from tests.kit.taxii import (
    COLLECTION,
    PASSWORD,
    START,
    USER,
    Taxii,
    indicator,
    stamp,
    taxii_server,
)

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
ENV = "VIGIE_TEST_TAXII_PASSWORD"


@pytest.fixture(scope="module")
def taxii(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Taxii]:
    with taxii_server(tmp_path_factory.mktemp("taxii"), count=120, page_size=50) as server:
        yield server


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, PASSWORD)


@pytest.fixture
def http() -> RequestsHttp:
    return RequestsHttp(FeedSettings(allow_private=True, timeout_seconds=30))


def _feed(session: Session, lead: User, url: str, **extra: object) -> Feed:
    data = {
        "name": "taxii-test",
        "kind": "taxii",
        "url": url,
        "collection": COLLECTION,
        "username": USER,
        "password_env": ENV,
        "tlp": "TLP:GREEN",
    } | extra
    return add_feed(session, Actor.for_user(lead), data, now=NOW)


def _poll(session: Session, feed: Feed, http: Http) -> FeedRun:
    clock = FrozenClock(NOW)
    uow = UnitOfWork(session, clock)
    return poll_feed(uow, Actor.system("test"), feed, http, clock=clock, trigger=RunTrigger.CLI)


def _date_added(index: int) -> str:
    return stamp(START + dt.timedelta(seconds=index, microseconds=1))


def _indicators(session: Session, feed: Feed) -> int:
    return session.scalar(select(func.count()).where(Indicator.feed_id == feed.id)) or 0


@pytest.mark.slow
@pytest.mark.usefixtures("secret")
def test_pages_checkpoint_nothing_twice_and_later_objects(
    db_session: Session, lead: User, http: RequestsHttp, tmp_path: Path
) -> None:
    with taxii_server(tmp_path, count=120, page_size=50) as taxii:  # its own: objects are added
        _pages_checkpoint_later(db_session, lead, http, taxii)


def _pages_checkpoint_later(
    db_session: Session, lead: User, http: RequestsHttp, taxii: Taxii
) -> None:
    feed = _feed(db_session, lead, taxii.discovery)
    run = _poll(db_session, feed, http)
    assert (run.status, run.error, run.new, run.rejected) == (RunStatus.SUCCEEDED, None, 120, 0)
    assert feed.checkpoint == _date_added(119) == run.checkpoint_after
    assert run.checkpoint_before is None
    assert _indicators(db_session, feed) == 120
    [matches] = match_observables(db_session, [("ipv4", "10.0.0.77")], now=NOW)
    assert [m.indicator.name for m in matches] == ["C2 10.0.0.77"]
    assert matches[0].indicator.tlp.value == "TLP:GREEN"

    again = _poll(db_session, feed, http)
    assert (again.status, again.new, again.updated, again.unchanged) == (
        RunStatus.SUCCEEDED,
        0,
        0,
        0,
    ), "the second poll asks only what was added after the checkpoint"
    assert again.checkpoint_before == again.checkpoint_after == _date_added(119)

    later = [indicator(500), indicator(501), indicator(5, modified=NOW - dt.timedelta(days=1))]
    taxii.add(later)
    third = _poll(db_session, feed, http)
    assert (third.new, third.updated, third.unchanged) == (2, 1, 0)
    assert feed.checkpoint is not None and feed.checkpoint > _date_added(119)
    assert _indicators(db_session, feed) == 122


@dataclasses.dataclass
class Failing:
    """The real client, except that the ``fail_on``-th objects page fails (``error``) or comes
    back cut short (``truncate``)."""

    inner: Http
    fail_on: int
    truncate: bool = False
    pages: int = 0

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        if "/objects/" in url:
            self.pages += 1
            if self.pages == self.fail_on:
                if not self.truncate:
                    raise FetchError("connection reset by the test")
                answer = self.inner.get(url, headers)
                return dataclasses.replace(answer, body=answer.body[: len(answer.body) // 2])
        return self.inner.get(url, headers)


@pytest.mark.slow
@pytest.mark.usefixtures("secret")
@pytest.mark.parametrize("truncate", [False, True], ids=["unreachable", "truncated"])
def test_a_failure_mid_way_keeps_the_pages_stored_and_resumes(
    db_session: Session, lead: User, taxii: Taxii, http: RequestsHttp, truncate: bool
) -> None:
    feed = _feed(db_session, lead, taxii.api_root)  # an API root's URL works too
    broken = _poll(db_session, feed, Failing(http, fail_on=3, truncate=truncate))
    assert broken.status is RunStatus.PARTIAL
    assert broken.error is not None
    assert ("cut short" in broken.error) if truncate else ("reset" in broken.error)
    assert broken.new == 100, "the two pages stored before the failure stay"
    assert feed.checkpoint == _date_added(99)
    assert feed.last_status is RunStatus.PARTIAL

    resumed = _poll(db_session, feed, http)
    assert (resumed.status, resumed.new, resumed.unchanged) == (RunStatus.SUCCEEDED, 20, 0)
    assert resumed.checkpoint_before == _date_added(99)
    assert _indicators(db_session, feed) == 120


@pytest.mark.slow
@pytest.mark.usefixtures("secret")
def test_a_failure_on_the_first_page_fails_the_run_and_stores_nothing(
    db_session: Session, lead: User, taxii: Taxii, http: RequestsHttp
) -> None:
    feed = _feed(db_session, lead, taxii.discovery)
    run = _poll(db_session, feed, Failing(http, fail_on=1))
    assert (run.status, run.error, run.new) == (RunStatus.FAILED, "connection reset by the test", 0)
    assert feed.checkpoint is None
    assert _indicators(db_session, feed) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"password_env": "VIGIE_TEST_TAXII_WRONG"}, "HTTP 401"),
        ({"collection": "6b3a4c1e-0000-4000-8000-000000000000"}, "HTTP 404"),
        ({"collection": "2c1bd1b0-2e1c-4bd6-8fd6-0b1d0b6c7a10"}, "cannot be read"),
        ({"password_env": "VIGIE_TEST_TAXII_UNSET"}, "VIGIE_TEST_TAXII_UNSET"),
    ],
    ids=["wrong-password", "unknown-collection", "unreadable-collection", "unset-variable"],
)
def test_refusals_are_clear_run_errors(
    db_session: Session,
    lead: User,
    taxii: Taxii,
    http: RequestsHttp,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str],
    expected: str,
) -> None:
    monkeypatch.setenv(ENV, PASSWORD)
    monkeypatch.setenv("VIGIE_TEST_TAXII_WRONG", "not-the-password")
    monkeypatch.delenv("VIGIE_TEST_TAXII_UNSET", raising=False)
    feed = _feed(db_session, lead, taxii.discovery, **change)
    run = _poll(db_session, feed, http)
    assert run.status is RunStatus.FAILED
    assert run.error is not None and expected in run.error
    assert feed.checkpoint is None and _indicators(db_session, feed) == 0


@pytest.mark.slow
def test_a_server_without_taxii_2_1_is_refused(
    db_session: Session, lead: User, taxii: Taxii
) -> None:
    """A URL that answers something else than TAXII JSON is a clear failure."""

    class Html:
        def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
            assert headers is not None
            assert headers["Accept"] == "application/taxii+json;version=2.1"
            return Response(200, {"content-type": "text/html"}, b"<html>login</html>", url)

    feed = _feed(db_session, lead, taxii.discovery, password_env=None, username=None)
    run = _poll(db_session, feed, Html())
    assert run.status is RunStatus.FAILED
    assert run.error is not None and "not a TAXII answer" in run.error


def test_credentials_never_leave_the_feeds_host(db_session: Session, lead: User) -> None:
    """A discovery document naming an API root on another host: that host is asked without
    the feed's credentials (and says 401, a clear run error)."""
    asked: list[tuple[str, bool]] = []

    class Elsewhere:
        def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
            assert headers is not None
            asked.append((url, "Authorization" in headers))
            if url == "https://taxii.example.org/taxii2/":
                body = b'{"title": "t", "api_roots": ["https://collector.example.net/root/"]}'
                return Response(200, {}, body, url)
            return Response(401, {}, b"", url)

    feed = _feed(db_session, lead, "https://taxii.example.org/taxii2/", password_env="HOME")
    run = _poll(db_session, feed, Elsewhere())
    assert asked == [
        ("https://taxii.example.org/taxii2/", True),
        ("https://collector.example.net/root/", False),
    ]
    assert run.status is RunStatus.FAILED and run.error is not None and "HTTP 401" in run.error
