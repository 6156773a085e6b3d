"""The indicator index (:mod:`feeds.index.store`, :mod:`feeds.index.lookup`) on both databases:
versions, revocation, expiry, and every way of matching."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.markings import Tlp
from feeds.index.lookup import match_observables
from feeds.index.store import store_records
from feeds.models import Feed, FeedKind
from feeds.rules.keys import Why, index_value
from feeds.rules.records import IndicatorRecord, Parsed, Rejection

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def _feed(session: Session, name: str = "test-feed") -> Feed:
    feed = Feed(name=name, kind=FeedKind.FILE, default_tlp=Tlp.GREEN, created_at=NOW)
    session.add(feed)
    session.flush()
    return feed


def _record(ref: str, kind: str, value: str, **extra: object) -> IndicatorRecord:
    return IndicatorRecord(source_ref=ref, values=(index_value(kind, value),), **extra)  # type: ignore[arg-type]


def test_versions_revocation_and_expiry_are_counted(db_session: Session) -> None:
    feed = _feed(db_session)
    v1 = NOW - dt.timedelta(days=2)
    v2 = NOW - dt.timedelta(days=1)
    first = Parsed(
        "stix",
        indicators=[
            _record("indicator--a", "ipv4", "198.51.100.7", modified=v1),
            _record("indicator--b", "domain", "evil.example", modified=v1),
            _record(
                "indicator--c",
                "sha256",
                "a" * 64,
                modified=v1,
                valid_until=NOW - dt.timedelta(hours=1),
            ),
        ],
        rejections=[Rejection("indicator--x", "no pattern")],
    )
    counts = store_records(db_session, feed, first, now=NOW)
    assert (counts.new, counts.expired, counts.rejected) == (3, 1, 1)
    second = Parsed(
        "stix",
        indicators=[
            _record("indicator--a", "ipv4", "198.51.100.7", modified=v1),  # same version
            _record("indicator--b", "domain", "evil.example", modified=v2, revoked=True),
        ],
    )
    counts = store_records(db_session, feed, second, now=NOW)
    assert (counts.new, counts.updated, counts.unchanged, counts.revoked) == (0, 1, 1, 1)
    # an older version arriving later does not revive a revoked indicator
    third = Parsed(
        "stix", indicators=[_record("indicator--b", "domain", "evil.example", modified=v1)]
    )
    assert store_records(db_session, feed, third, now=NOW).unchanged == 1
    results = match_observables(
        db_session,
        [("ipv4", "198.51.100.7"), ("domain", "evil.example"), ("sha256", "a" * 64)],
        now=NOW,
    )
    assert [len(r) for r in results] == [1, 0, 0]  # revoked and expired do not match
    assert results[0][0].indicator.tlp == Tlp.GREEN  # the feed's default


def test_networks_parent_domains_and_url_hosts_match(db_session: Session) -> None:
    feed = _feed(db_session, "ways")
    store_records(
        db_session,
        feed,
        Parsed(
            "csv",
            indicators=[
                _record("n", "ipv4", "203.0.113.0/24"),
                _record("n6", "ipv6", "2001:db8::/32"),
                _record("d", "domain", "evil.example"),
                _record("u", "url", "http://evil.example/a.php"),
            ],
        ),
        now=NOW,
    )
    results = match_observables(
        db_session,
        [
            ("ipv4", "203.0.113.9"),
            ("ipv6", "2001:db8::1"),
            ("domain", "a.b.evil.example"),
            ("url", "http://evil.example/a.php"),
            ("url", "https://cdn.evil.example/x"),
            ("ipv4", "192.0.2.1"),
        ],
        now=NOW,
    )
    whys = [[m.why for m in r] for r in results]
    assert whys == [
        [Why.NETWORK],
        [Why.NETWORK],
        [Why.PARENT_DOMAIN],
        [Why.EXACT, Why.URL_HOST],
        [Why.URL_HOST],
        [],
    ]
