"""feeds.demo: the demo STIX bundle (valid under the OASIS stix2-validator, realistic content)
and the demo feed ``cert demo`` seeds, idempotently, on both databases."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stix2validator import ValidationOptions, validate_string

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.config import Config
from core.identity.authz import Actor
from core.markings import Tlp, tlp_table
from feeds import demo
from feeds.models import Feed, FeedKind, FeedRun, Indicator, IntelObject, RunStatus

SYSTEM = Actor.system("test")


def objects() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(demo.bundle())["objects"]
    return loaded


def test_the_demo_bundle_is_valid_stix_2_1() -> None:
    results = validate_string(demo.bundle().decode("utf-8"), ValidationOptions(version="2.1"))
    assert results.is_valid and results.errors == []
    # and it fails when it should: the validator reads our objects
    broken = demo.bundle().replace(b'"pattern_type": "stix"', b'"pattern_type": 7', 1)
    assert not validate_string(broken.decode("utf-8"), ValidationOptions(version="2.1")).is_valid


def test_the_demo_bundle_is_realistic_and_marked_with_tlp_2_0() -> None:
    found = objects()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in found:
        by_type.setdefault(obj["type"], []).append(obj)
    indicators = by_type["indicator"]
    assert 30 <= len(indicators) <= 60
    table = tlp_table()
    shipped = {o["id"]: o for o in by_type["marking-definition"]}
    assert shipped == {
        table[t].stix_id: table[t].stix_object for t in (Tlp.GREEN, Tlp.AMBER)
    }  # the TLP 2.0 objects themselves, never minted ids
    assert {ref for o in indicators for ref in o["object_marking_refs"]} == set(shipped)
    techniques = {
        ref["external_id"]
        for o in by_type["attack-pattern"]
        for ref in o["external_references"]
        if ref["source_name"] == "mitre-attack"
    }
    assert {"T1566", "T1486", "T1190", "T1110"} <= techniques
    patterns = " ".join(o["pattern"] for o in indicators)
    for shape in ("domain-name:value", "url:value", "ipv4-addr:value ISSUBSET", "ipv6-addr",
                  "email-addr", "file:hashes.MD5", "file:hashes.'SHA-256'"):  # fmt: skip
        assert shape in patterns
    indicates = {
        (r["source_ref"], r["target_ref"].split("--")[0])
        for r in by_type["relationship"]
        if r["relationship_type"] == "indicates"
    }
    assert {kind for _, kind in indicates} >= {"malware", "attack-pattern", "campaign"}
    assert {o["id"] for o in indicators} == {source for source, _ in indicates}


def test_cert_demo_seeds_the_demo_feed_once(db_session: Session, clock: FrozenClock) -> None:
    summary = demo.seed(db_session, SYSTEM, clock, Config())
    count = sum(o["type"] == "indicator" for o in objects())
    feed = db_session.scalars(select(Feed).where(Feed.name == demo.FEED)).one()
    [run] = db_session.scalars(select(FeedRun).where(FeedRun.feed_id == feed.id)).all()
    assert summary == f"demo feed demo-intel: {count} indicator(s) imported, 0 rejected " + (
        f"(run {run.id}, succeeded)"
    )
    assert feed.kind == FeedKind.FILE and feed.last_status == RunStatus.SUCCEEDED
    assert (run.new, run.rejected, run.document) == (count, 0, "demo-intel.stix.json")
    indicators = db_session.scalars(select(Indicator).where(Indicator.feed_id == feed.id)).all()
    assert {i.tlp for i in indicators} == {Tlp.GREEN, Tlp.AMBER}
    related = {r.get("external_id") for i in indicators for r in i.related}
    assert {"T1566.002", "T1486", "T1110"} <= related
    techniques = db_session.scalars(
        select(IntelObject.external_id).where(IntelObject.type == "attack-pattern")
    ).all()
    assert "T1486" in techniques
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == demo.FEED)
    ).all()
    assert sorted(actions) == ["feed.create", "feed.import"]

    again = demo.seed(db_session, SYSTEM, clock, Config())
    assert again == "demo feed demo-intel: already present"
    runs = db_session.scalar(select(func.count()).select_from(FeedRun))
    assert runs == 1
