"""Importing a STIX 2.1 bundle by hand (:func:`feeds.sources.imports.import_document`) on both
databases: the run and its counts, versions, revocation, expiry, the valid objects of a mixed
bundle kept, and documents that are not what they claim refused with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.events.store import DomainEvent
from core.identity.authz import Actor
from core.markings import Tlp
from feeds.index.lookup import match_observables
from feeds.models import Feed, FeedKind, FeedRun, Indicator, IntelObject, RunStatus, RunTrigger
from feeds.sources.imports import ImportRefused, import_document
from tests.feeds.misp_kit import event, feed_document
from tests.feeds.stixdata import TLP2_RED, bundle, indicator, relationship, sdo, sid

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
ACTOR = Actor.system("test:import")
IP = "[ipv4-addr:value = '198.51.100.7']"
DOMAIN = "[domain-name:value = 'evil.example']"


def _import(
    session: Session, data: bytes, feed: str | None = None, now: dt.datetime = NOW
) -> FeedRun:
    return import_document(session, ACTOR, data, name="intel.json", feed_name=feed, now=now)


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_bundle_goes_to_the_manual_feed(db_session: Session) -> None:
    ind = indicator(IP, 1, object_marking_refs=[TLP2_RED], confidence=90)
    malware = sdo("malware", 1, "Emotet", is_family=True)
    data = bundle(
        ind, indicator(DOMAIN, 2), malware, relationship(ind["id"], "indicates", malware["id"])
    )
    run = _import(db_session, data)
    feed = run.feed
    assert (feed.name, feed.kind, feed.default_tlp) == ("manual", FeedKind.FILE, Tlp.AMBER)
    assert (run.trigger, run.status, run.document) == (
        RunTrigger.IMPORT,
        RunStatus.SUCCEEDED,
        "intel.json",
    )
    assert run.counts() == {
        "new": 2,
        "updated": 0,
        "unchanged": 0,
        "revoked": 0,
        "expired": 0,
        "rejected": 0,
    }
    assert (feed.last_status, feed.last_run_at, feed.last_counts["new"]) == (
        RunStatus.SUCCEEDED,
        NOW,
        2,
    )
    stored = {i.stix_id: i for i in db_session.scalars(select(Indicator))}
    assert (stored[ind["id"]].tlp, stored[ind["id"]].confidence) == (Tlp.RED, 90)
    assert stored[sid("indicator", 2)].tlp is Tlp.AMBER  # the feed's default
    assert stored[ind["id"]].related[0]["name"] == "Emotet"
    assert db_session.scalars(select(IntelObject.name)).all() == ["Emotet"]
    (matches,) = match_observables(db_session, [("ipv4", "198.51.100.7")], now=NOW)
    assert [m.indicator.stix_id for m in matches] == [ind["id"]]
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["feed.create", "feed.import"]
    events = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "feed.indicators_changed")
    ).all()
    assert [(e.payload["new"], e.payload["run_id"]) for e in events] == [(2, run.id)]
    again = _import(db_session, data, now=NOW + dt.timedelta(hours=1))
    assert (again.feed.id, again.unchanged, again.new) == (feed.id, 2, 0)
    assert _count(db_session, DomainEvent) == 1  # nothing changed: no event
    assert _count(db_session, Feed) == 1


def test_versions_revocation_and_expiry(db_session: Session) -> None:
    v1 = "2026-11-01T10:00:00.000Z"
    v2 = "2026-11-05T10:00:00.000Z"
    _import(db_session, bundle(indicator(IP, 1, name="first"), indicator(DOMAIN, 2)))
    newer = indicator(IP, 1, name="second", modified=v2)
    older = indicator(IP, 1, name="older", modified=v1)
    revoked = indicator(DOMAIN, 2, modified=v2, revoked=True)
    expired = indicator(
        "[url:value = 'http://old.example/']", 3, valid_until="2026-11-30T00:00:00Z"
    )
    run = _import(db_session, bundle(older, newer, revoked, expired))
    assert (run.new, run.updated, run.revoked, run.expired) == (1, 2, 1, 1)
    names = {
        row.stix_id: row.name
        for row in db_session.execute(select(Indicator.stix_id, Indicator.name))
    }
    assert names[sid("indicator", 1)] == "second"  # the newest version wins
    back = _import(db_session, bundle(indicator(IP, 1, name="older", modified=v1)))
    assert (back.unchanged, back.updated) == (1, 0)
    found = match_observables(
        db_session,
        [("domain", "evil.example"), ("url", "http://old.example/"), ("ipv4", "198.51.100.7")],
        now=NOW,
    )
    assert [len(m) for m in found] == [0, 0, 1]  # revoked and expired do not match


def test_a_mixed_bundle_keeps_the_valid_objects(db_session: Session) -> None:
    data = bundle(
        indicator(IP, 1),
        indicator(DOMAIN, 2, confidence=123456789),
        indicator(DOMAIN, 3, valid_from="2026-13-45T00:00:00Z"),
        indicator("[ipv4-addr:value = '1.2.3.4'", 4),
        indicator("[domain-name:value = 'a\u0000b.example']", 5),
        {"type": "observed-data", "id": sid("observed-data")},
        relationship(sid("indicator", 1), "indicates", "malware--" + "b" * 300, 9),
        indicator("[url:value = 'http://evil.example/" + "a" * 3000 + "']", 6),
    ).replace(b"123456789", b"1" + b"0" * 30)  # beyond 64 bits: orjson reads a float
    run = _import(db_session, data)
    assert (run.status, run.new, run.rejected, run.skipped) == (RunStatus.PARTIAL, 1, 6, 1)
    reasons = {r["ref"]: r["reason"] for r in run.rejections}
    assert reasons[sid("indicator", 2)] == "confidence 1e+30 is not an integer from 0 to 100"
    assert "valid_from '2026-13-45T00:00:00Z' is not a valid date" in reasons[sid("indicator", 3)]
    assert reasons[sid("indicator", 4)].startswith("invalid STIX pattern")
    assert reasons[sid("indicator", 5)] == "pattern contains a NUL character"
    assert "is not a STIX id" in reasons[sid("relationship", 9)]  # too long for its column
    assert "url value longer than 2048 characters" in reasons[sid("indicator", 6)]
    assert db_session.scalars(select(Indicator.stix_id)).all() == [sid("indicator", 1)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>Session expired, please log in</body></html>", "an HTML or XML page"),
        (
            b'{"5f1c8f6e-6a34-4f5a-9a3b-0c2e8d1f3b7a": {"info": "x", "timestamp": "1"}}',
            "a MISP feed manifest (manifest.json): add the feed's URL as a misp-feed feed",
        ),
        (b"\x00\x01\x02", "a binary document"),
        (b"", "an empty document"),
        (b'{"type": "bundle", "objects": "none"}', '"objects" is not a list'),
        (b'{"type": "bundle", "objects": [', "not valid JSON"),
    ],
)
def test_a_document_that_is_not_a_bundle_changes_nothing(
    db_session: Session, data: bytes, message: str
) -> None:
    with pytest.raises(ImportRefused) as refused:
        _import(db_session, data)
    assert refused.value.message.startswith("intel.json: ") and message in refused.value.message
    for model in (Feed, FeedRun, Indicator, AuditEntry, DomainEvent):
        assert _count(db_session, model) == 0, model


def test_a_feed_of_another_kind_refuses_a_bundle(db_session: Session) -> None:
    db_session.add(
        Feed(name="misp-x", kind=FeedKind.MISP_FEED, default_tlp=Tlp.GREEN, created_at=NOW)
    )
    db_session.flush()
    with pytest.raises(ImportRefused, match="a stix document; this feed reads misp-event"):
        _import(db_session, bundle(indicator(IP)), feed="misp-x")
    with pytest.raises(ImportRefused, match="no feed named 'nope'"):
        _import(db_session, bundle(indicator(IP)), feed="nope")
    assert _count(db_session, FeedRun) == 0


def test_a_named_feed_keeps_its_defaults(db_session: Session) -> None:
    feed = Feed(
        name="partner", kind=FeedKind.STIX_URL, default_tlp=Tlp.GREEN, confidence=70, created_at=NOW
    )
    db_session.add(feed)
    db_session.flush()
    run = _import(db_session, bundle(indicator(IP)), feed="partner")
    assert run.feed_id == feed.id
    stored = db_session.scalars(select(Indicator)).one()
    assert (stored.tlp, stored.confidence, stored.feed_id) == (Tlp.GREEN, 70, feed.id)
    assert _count(db_session, Feed) == 1  # no manual feed


def test_a_stix_feed_refuses_a_misp_event_and_changes_nothing(db_session: Session) -> None:
    feed = Feed(name="partner", kind=FeedKind.STIX_URL, default_tlp=Tlp.GREEN, created_at=NOW)
    db_session.add(feed)
    db_session.flush()
    misp = event("Phishing wave", at=NOW)
    misp.add_attribute("ip-dst", "198.51.100.7", to_ids=True)
    with pytest.raises(ImportRefused, match="a misp-event document; this feed reads stix"):
        _import(db_session, feed_document(misp), feed="partner")
    assert (_count(db_session, FeedRun), _count(db_session, Indicator)) == (0, 0)
    assert feed.last_status is None and _count(db_session, AuditEntry) == 0


def test_the_manual_feed_also_takes_misp_events_and_lists(db_session: Session) -> None:
    """Recognised from their content, parsed by feeds.rules.misp and feeds.rules.blocklist."""
    misp = event("Phishing wave", at=NOW)
    misp.add_attribute("domain", "evil.example", to_ids=True)
    first = _import(db_session, feed_document(misp))
    assert (first.new, first.status) == (1, RunStatus.SUCCEEDED)
    listed = _import(db_session, b"# bad hosts\n198.51.100.7\n203.0.113.0/24\nnot a value!\n")
    assert (listed.new, listed.rejected) == (2, 1)
    rows = _import(db_session, b"value;seen\nsender@evil.example;2026-11-01\n")
    assert rows.new == 1
    found = match_observables(
        db_session,
        [("domain", "evil.example"), ("ipv4", "203.0.113.9"), ("email", "sender@evil.example")],
        now=NOW,
    )
    assert [len(m) for m in found] == [1, 1, 1]
    assert _count(db_session, Feed) == 1
