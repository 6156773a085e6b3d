"""Text and CSV blocklists served on loopback, polled by :func:`feeds.sources.blocklists.pull_list`
as snapshots, on both databases: what leaves the list expires (:func:`feeds.index.snapshot.
expire_absent`) and revives when it comes back; a refused document changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.markings import Tlp
from feeds.index.lookup import match_observables
from feeds.index.snapshot import expire_absent
from feeds.models import Feed, FeedKind, Indicator
from feeds.rules.records import NotThatKind
from feeds.settings import FeedSettings
from feeds.sources.blocklists import pull_list
from feeds.sources.fetch import FetchError, RequestsHttp
from tests.feeds.polling import poll
from tests.feeds.served import Served, serve

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=6)
LATEST = NOW + dt.timedelta(hours=12)
HTTP = RequestsHttp(FeedSettings(allow_private=True, timeout_seconds=10))

HEADER = (
    "################################################################\r\n"
    "# abuse.ch URLhaus Database Dump (CSV - online URLs only)      #\r\n"
    "################################################################\r\n"
    "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\r\n"
)


def _row(n: int, url: str) -> str:
    return (
        f'"{n}","2026-12-0{n} 10:00:00","{url}","online","2026-12-04","malware_download",'
        f'"elf,mozi","https://urlhaus.abuse.ch/url/{n}/","anonymous"\r\n'
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path) as server:
        yield server


def _feed(session: Session, served: Served, name: str = "urlhaus", **extra: object) -> Feed:
    feed = Feed(
        name=name,
        kind=FeedKind.CSV,
        url=f"{served.base}/csv_online.txt",
        default_tlp=Tlp.CLEAR,
        confidence=70,
        created_at=NOW,
        **extra,
    )
    session.add(feed)
    session.flush()
    return feed


def _publish(served: Served, text: str) -> None:
    (served.root / "csv_online.txt").write_bytes(b"\xef\xbb\xbf" + text.encode())


def _matching(session: Session, now: dt.datetime, *urls: str) -> list[int]:
    return [len(m) for m in match_observables(session, [("url", u) for u in urls], now=now)]


A, B, C = "http://198.51.100.7/i", "http://evil.example/bins/mozi.m", "http://new.example/x.sh"


def test_a_csv_list_expires_what_leaves_it_and_revives_what_returns(
    db_session: Session, served: Served
) -> None:
    feed = _feed(db_session, served, value_type="url", column=3, delimiter=",")
    _publish(served, HEADER + _row(1, A) + _row(2, B) + '"3","x","not a url"\r\n')

    [first] = poll(db_session, feed, pull_list, HTTP, now=NOW)

    assert (first.new, first.rejected, first.expired) == (2, 1, 0)
    assert first.rejections[0]["ref"] == "line 7"
    assert _matching(db_session, NOW, A, B) == [1, 1]
    indicator = db_session.scalars(select(Indicator).order_by(Indicator.id)).first()
    assert indicator is not None
    assert (indicator.source_ref, indicator.tlp, indicator.confidence) == (
        f"url:{A}",
        Tlp.CLEAR,
        70,
    )

    _publish(served, HEADER + _row(2, B) + _row(3, C))
    [second] = poll(db_session, feed, pull_list, HTTP, now=LATER)

    assert (second.new, second.unchanged, second.expired) == (1, 1, 1)
    assert _matching(db_session, LATER, A, B, C) == [0, 1, 1]  # A left the list
    assert _matching(db_session, NOW, A) == [1]  # it was live before

    _publish(served, HEADER + _row(1, A) + _row(2, B) + _row(3, C))
    [third] = poll(db_session, feed, pull_list, HTTP, now=LATEST)

    assert (third.new, third.updated, third.unchanged, third.expired) == (0, 1, 2, 0)
    assert _matching(db_session, LATEST, A, B, C) == [1, 1, 1]  # A came back


def test_a_text_list_with_guessed_types(db_session: Session, served: Served) -> None:
    feed = _feed(db_session, served)  # no type, column or delimiter: one value per line
    _publish(served, "# blocklist\n198.51.100.7\n203.0.113.0/24\nevil.example\n" + "f" * 64)

    [page] = poll(db_session, feed, pull_list, HTTP, now=NOW)

    assert page.new == 4
    found = match_observables(
        db_session,
        [("ipv4", "203.0.113.77"), ("domain", "www.evil.example"), ("sha256", "f" * 64)],
        now=NOW,
    )
    assert [m[0].why for m in found] == ["network", "parent-domain", "exact"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>", NotThatKind),
        (b"\x1f\x8b\x08\x00gzipped", NotThatKind),
        (b"", NotThatKind),
        (b"Rate limit exceeded\n", NotThatKind),
        (None, FetchError),  # the file is gone: 404
    ],
)
def test_a_refused_document_changes_nothing(
    db_session: Session, served: Served, body: bytes | None, error: type[Exception]
) -> None:
    feed = _feed(db_session, served)
    _publish(served, "198.51.100.7\nevil.example\n")
    poll(db_session, feed, pull_list, HTTP, now=NOW)
    if body is None:
        (served.root / "csv_online.txt").unlink()
    else:
        (served.root / "csv_online.txt").write_bytes(body)

    with pytest.raises(error):
        poll(db_session, feed, pull_list, HTTP, now=LATER)

    live = match_observables(
        db_session, [("ipv4", "198.51.100.7"), ("domain", "evil.example")], now=LATER
    )
    assert [len(m) for m in live] == [1, 1]


def test_expire_absent_leaves_revoked_expired_and_other_feeds_alone(
    db_session: Session, served: Served
) -> None:
    feed = _feed(db_session, served)
    other = _feed(db_session, served, name="other")
    _publish(served, "198.51.100.1\n198.51.100.2\n198.51.100.3\n")
    poll(db_session, feed, pull_list, HTTP, now=NOW)
    poll(db_session, other, pull_list, HTTP, now=NOW)
    rows = db_session.scalars(
        select(Indicator).where(Indicator.feed_id == feed.id).order_by(Indicator.id)
    ).all()
    rows[0].revoked = True
    rows[1].valid_until = NOW
    db_session.flush()

    assert expire_absent(db_session, feed, [], now=LATER) == 1  # only 198.51.100.3
    assert rows[1].valid_until == NOW  # not moved
    assert expire_absent(db_session, feed, [], now=LATER) == 0
    assert _ipv4_live(db_session, other, LATER) == 3


def _ipv4_live(session: Session, feed: Feed, now: dt.datetime) -> int:
    found = match_observables(session, [("ipv4", f"198.51.100.{n}") for n in (1, 2, 3)], now=now)
    return sum(1 for matches in found for m in matches if m.indicator.feed_id == feed.id)
