"""A MISP feed written by PyMISP (event files and its manifest), served on loopback and polled
incrementally by :func:`feeds.sources.mispfeed.pull_misp_feed` into the index, on both
databases: checkpoints, nothing fetched twice, new events, soft-deleted attributes, a failure
part-way, credentials, and refused documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymisp import MISPEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.markings import Tlp
from feeds.index.lookup import match_observables
from feeds.models import Feed, FeedKind, Indicator
from feeds.rules.records import NotThatKind
from feeds.settings import FeedSettings
from feeds.sources.fetch import FetchError, RequestsHttp
from feeds.sources.mispfeed import pull_misp_feed, read_manifest
from tests.feeds.misp_kit import NOW, event, manifest, write_feed
from tests.feeds.polling import poll
from tests.feeds.served import Served, serve

HOUR = dt.timedelta(hours=1)
HTTP = RequestsHttp(FeedSettings(allow_private=True, timeout_seconds=10))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path) as server:
        yield server


def _feed(session: Session, served: Served, url: str = "", **extra: object) -> Feed:
    feed = Feed(
        name="cert-x-misp",
        kind=FeedKind.MISP_FEED,
        url=url or f"{served.base}/feed/",
        default_tlp=Tlp.AMBER,
        created_at=NOW,
        **extra,
    )
    session.add(feed)
    session.flush()
    return feed


def _events() -> list[MISPEvent]:
    first = event("Emotet C2", at=NOW - 3 * HOUR, tags=("tlp:green",))
    first.add_attribute("ip-dst", "198.51.100.7", timestamp=NOW - 3 * HOUR)
    first.add_attribute("domain", "c2.evil.example", timestamp=NOW - 3 * HOUR)
    second = event("Phishing kit", at=NOW - 2 * HOUR)
    second.add_attribute("url", "https://login.evil.example/kit", timestamp=NOW - 2 * HOUR)
    second.add_attribute("ip-dst", "198.51.100.300", timestamp=NOW - 2 * HOUR)  # rejected
    third = event("Dropper", at=NOW - HOUR)
    third.add_attribute("sha256", "a" * 64, timestamp=NOW - HOUR)
    return [first, second, third]


def _paths(served: Served) -> list[str]:
    paths, served.requests[:] = list(served.requests), []
    return paths


def _matches(session: Session, *observables: tuple[str, str]) -> list[int]:
    return [len(m) for m in match_observables(session, list(observables), now=NOW)]


def test_polled_oldest_first_then_nothing_new(db_session: Session, served: Served) -> None:
    events = _events()
    write_feed(served.root / "feed", events)
    feed = _feed(db_session, served)

    pages = poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert _paths(served) == ["/feed/manifest.json"] + [f"/feed/{e.uuid}.json" for e in events]
    assert [(p.new, p.rejected) for p in pages] == [(2, 0), (1, 1), (1, 0)]
    assert "out of range" in pages[1].rejections[0]["reason"]
    assert feed.checkpoint == str(int((NOW - HOUR).timestamp()))
    assert _matches(
        db_session,
        ("ipv4", "198.51.100.7"),
        ("domain", "www.c2.evil.example"),
        ("sha256", "a" * 64),
    ) == [1, 1, 1]
    tlps = db_session.scalars(select(Indicator.tlp).order_by(Indicator.id)).all()
    assert tlps == [Tlp.GREEN, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER]  # event tag, else the default

    assert poll(db_session, feed, pull_misp_feed, HTTP, now=NOW) == []
    assert _paths(served) == ["/feed/manifest.json"]  # nothing fetched again


def test_a_new_event_and_a_soft_deleted_attribute(db_session: Session, served: Served) -> None:
    events = _events()
    write_feed(served.root / "feed", events)
    feed = _feed(db_session, served)
    poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)
    _paths(served)

    first = events[0]
    first.attributes[0].delete()  # MISP soft-deletes: the attribute stays, marked deleted
    first.attributes[0].timestamp = NOW
    first.timestamp = NOW
    fourth = event("New wave", at=NOW - HOUR // 2)
    fourth.add_attribute("email-src", "boss@evil.example", timestamp=NOW - HOUR // 2)
    write_feed(served.root / "feed", [*events, fourth])

    pages = poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert _paths(served) == [
        "/feed/manifest.json",
        f"/feed/{fourth.uuid}.json",
        f"/feed/{first.uuid}.json",
    ]
    assert [(p.new, p.updated, p.unchanged, p.revoked) for p in pages] == [
        (1, 0, 0, 0),
        (0, 1, 1, 1),
    ]
    assert _matches(db_session, ("ipv4", "198.51.100.7"), ("email", "boss@evil.example")) == [0, 1]
    assert feed.checkpoint == str(int(NOW.timestamp()))


def test_a_failure_part_way_resumes_after_the_last_stored_event(
    db_session: Session, served: Served
) -> None:
    events = _events()
    write_feed(served.root / "feed", events)
    feed = _feed(db_session, served)
    served.failing[f"/feed/{events[1].uuid}.json"] = 500

    with pytest.raises(FetchError, match="HTTP 500"):
        poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert feed.checkpoint == str(int((NOW - 3 * HOUR).timestamp()))
    assert db_session.scalar(select(func.count()).select_from(Indicator)) == 2
    _paths(served)
    served.failing.clear()

    pages = poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert _paths(served) == ["/feed/manifest.json"] + [f"/feed/{e.uuid}.json" for e in events[1:]]
    assert [p.new for p in pages] == [1, 1]


def test_an_event_file_that_is_not_an_event_stores_nothing_of_it(
    db_session: Session, served: Served
) -> None:
    events = _events()[:2]
    write_feed(served.root / "feed", events)
    (served.root / "feed" / f"{events[1].uuid}.json").write_text("<html>Maintenance</html>")
    feed = _feed(db_session, served)

    with pytest.raises(NotThatKind, match="not JSON"):
        poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert feed.checkpoint == str(int((NOW - 3 * HOUR).timestamp()))
    assert db_session.scalar(select(func.count()).select_from(Indicator)) == 2


def test_events_sharing_a_timestamp_are_not_skipped_on_resumption(
    db_session: Session, served: Served
) -> None:
    twins = [event(f"Twin {n}", at=NOW - HOUR) for n in range(2)]
    for n, twin in enumerate(twins):
        twin.add_attribute("ip-dst", f"198.51.100.{n + 1}", timestamp=NOW - HOUR)
    write_feed(served.root / "feed", twins)
    ordered = sorted(twins, key=lambda e: e.uuid)
    served.failing[f"/feed/{ordered[1].uuid}.json"] = 503
    feed = _feed(db_session, served)

    with pytest.raises(FetchError):
        poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)
    assert feed.checkpoint == str(int((NOW - HOUR).timestamp()) - 1)
    served.failing.clear()
    pages = poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert [(p.new, p.unchanged) for p in pages] == [(0, 1), (1, 0)]
    assert feed.checkpoint == str(int((NOW - HOUR).timestamp()))


def test_credentials_from_the_named_variable(
    db_session: Session, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_feed(served.root / "feed", _events()[:1])
    monkeypatch.setenv("CERT_X_MISP_KEY", "s3cret")
    feed = _feed(db_session, served, password_env="CERT_X_MISP_KEY")

    poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert served.authorizations == ["Bearer s3cret", "Bearer s3cret"]


def test_manifest_entries_that_are_not_event_uuids_are_rejected(served: Served) -> None:
    write_feed(served.root / "feed", _events()[:1])
    good = manifest(served.root / "feed")
    body = (
        '{"../../admin": {"timestamp": 1}, '
        '"5d1a1ab4-2222-4222-8222-222222222222": {"timestamp": "soon"}, '
        + ", ".join(f'"{k}": {{"timestamp": {v["timestamp"]}}}' for k, v in good.items())
        + "}"
    ).encode()

    entries, rejections = read_manifest(body)

    assert list(entries) == list(good)
    assert [r.ref for r in rejections] == [
        "manifest '../../admin'",
        "manifest '5d1a1ab4-2222-4222-8222-222222222222'",
    ]
    with pytest.raises(NotThatKind, match="manifest.json is not JSON"):
        read_manifest(b"<html>")


def test_bad_manifest_entries_are_reported_with_the_first_page(
    db_session: Session, served: Served
) -> None:
    events = _events()[:1]
    write_feed(served.root / "feed", events)
    path = served.root / "feed" / "manifest.json"
    path.write_text(path.read_text().replace("{", '{"../../admin": {"timestamp": 1}, ', 1))
    feed = _feed(db_session, served, url=f"{served.base}/feed/manifest.json")

    [page] = poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)

    assert (page.new, page.rejected) == (2, 1)
    assert page.rejections[0] == {
        "ref": "manifest '../../admin'",
        "reason": "the key is not an event UUID",
    }
    assert "/admin" not in " ".join(served.requests)
    # nothing new: the rejection is reported again, the checkpoint stays
    checkpoint = feed.checkpoint
    [again] = poll(db_session, feed, pull_misp_feed, HTTP, now=NOW)
    assert (again.new, again.rejected, feed.checkpoint) == (0, 1, checkpoint)
