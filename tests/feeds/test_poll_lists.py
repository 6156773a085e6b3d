"""``poll_feed`` on the other kinds' pullers (PULLERS): a STIX bundle at a URL is read by
version; a CSV list served on loopback is a snapshot — what it no longer holds expires, counted
in the run — and a list that is not one is refused with nothing changed (both databases)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import User
from core.uow import UnitOfWork
from feeds.index.lookup import match_observables
from feeds.models import Feed, FeedRun, RunStatus, RunTrigger
from feeds.settings import FeedSettings
from feeds.sources.fetch import RequestsHttp
from feeds.sources.poll import poll_feed
from feeds.sources.services import add_feed
from tests.feeds.served import serve
from tests.kit.taxii import indicator

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def _poll(session: Session, feed: Feed, clock: FrozenClock) -> FeedRun:
    http = RequestsHttp(FeedSettings(allow_private=True))
    return poll_feed(
        UnitOfWork(session, clock),
        Actor.system("test"),
        feed,
        http,
        clock=clock,
        trigger=RunTrigger.CLI,
    )


def test_a_csv_list_is_a_snapshot(db_session: Session, lead: User, tmp_path: Path) -> None:
    listing = tmp_path / "ips.csv"
    listing.write_text("# first_seen,ip\n2026-12-01,198.51.100.7\n2026-12-01,203.0.113.9\n")
    clock = FrozenClock(NOW)
    with serve(tmp_path) as served:
        data = {
            "name": "ips",
            "kind": "csv",
            "url": f"{served.base}/ips.csv",
            "value_type": "ipv4",
            "column": 2,
            "delimiter": ",",
        }
        feed = add_feed(db_session, Actor.for_user(lead), data, now=NOW)
        first = _poll(db_session, feed, clock)
        assert (first.status, first.new, first.expired) == (RunStatus.SUCCEEDED, 2, 0)

        listing.write_text("# first_seen,ip\n2026-12-02,203.0.113.9\n")
        clock.advance(hours=1)
        second = _poll(db_session, feed, clock)
        assert (second.status, second.new, second.unchanged, second.expired) == (
            RunStatus.SUCCEEDED,
            0,
            1,
            1,
        )
        gone, kept = match_observables(
            db_session, [("ipv4", "198.51.100.7"), ("ipv4", "203.0.113.9")], now=clock.now()
        )
        assert (gone, len(kept)) == ([], 1)

        listing.write_text("<html><body>Service unavailable</body></html>\n")
        clock.advance(hours=1)
        refused = _poll(db_session, feed, clock)
        assert refused.status is RunStatus.FAILED and refused.error
        assert refused.expired == 0
        [still] = match_observables(db_session, [("ipv4", "203.0.113.9")], now=clock.now())
        assert len(still) == 1, "a refused document changes nothing"


@pytest.mark.parametrize("status", [404, 500])
def test_an_http_error_fails_the_run(
    db_session: Session, lead: User, tmp_path: Path, status: int
) -> None:
    with serve(tmp_path) as served:
        served.failing["/list.txt"] = status
        data = {
            "name": "l",
            "kind": "csv",
            "url": f"{served.base}/list.txt",
            "value_type": "domain",
        }
        feed = add_feed(db_session, Actor.for_user(lead), data, now=NOW)
        run = _poll(db_session, feed, FrozenClock(NOW))
    assert run.status is RunStatus.FAILED
    assert run.error is not None and f"HTTP {status}" in run.error


def test_a_stix_bundle_at_a_url_is_polled_by_version(
    db_session: Session, lead: User, tmp_path: Path
) -> None:
    """``stix-url`` through PULLERS: a bundle states versions itself — polled again, unchanged
    objects stay unchanged and a newer ``modified`` updates; absence expires nothing."""
    bundle = tmp_path / "bundle.json"
    objects = [indicator(1), indicator(2)]
    bundle.write_text(
        json.dumps(
            {
                "type": "bundle",
                "id": "bundle--" + "1" * 8 + "-1111-4111-8111-" + "1" * 12,
                "objects": objects,
            }
        )
    )
    clock = FrozenClock(NOW)
    with serve(tmp_path) as served:
        data = {"name": "stix", "kind": "stix-url", "url": f"{served.base}/bundle.json"}
        feed = add_feed(db_session, Actor.for_user(lead), data, now=NOW)
        first = _poll(db_session, feed, clock)
        assert (first.status, first.new) == (RunStatus.SUCCEEDED, 2)
        newer = indicator(2, modified=NOW - dt.timedelta(days=1))
        bundle.write_text(
            json.dumps(
                {
                    "type": "bundle",
                    "id": "bundle--" + "2" * 8 + "-2222-4222-8222-" + "2" * 12,
                    "objects": [newer],
                }
            )
        )
        second = _poll(db_session, feed, clock)
    assert (second.new, second.updated, second.unchanged, second.expired) == (0, 1, 0, 0)
