"""A published bulletin as a STIX 2.1 bundle (format ``stix``), on both databases: every output
goes through the OASIS stix2-validator (no error, no warning) and ``stix2.parse``; ids are
stable across renderings and revisions, a revision is a new ``modified``; only what was
published shows, marked with the bulletin's TLP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from bulletins.authoring import services as svc
from bulletins.outputs import formats
from bulletins.outputs.view import current_view, published_view
from bulletins.stix import report
from core.clock import FrozenClock
from core.markings import Tlp, tlp_table
from incidents.sharing import stix_objects as so
from tests.bulletins.stix_check import assert_valid_bundle
from tests.bulletins.test_authoring import SETTINGS, draft, people, published
from tests.incidents.sharing.stix_check import by_type
from tests.kit.world import World

INDICATORS = [
    {"type": "ipv4", "value": "185.220.101.4"},
    {"type": "ipv6", "value": "2001:db8::1"},
    {"type": "domain", "value": "webmail-interieur.com"},
    {"type": "url", "value": "https://webmail-interieur.com/login.php?a='x'"},
    {"type": "sha256", "value": "a" * 64},
    {"type": "md5", "value": "0123456789abcdef0123456789abcdef"},
    {"type": "email", "value": "phish@evil.example"},
    {"type": "file", "value": "facture.pdf.exe"},
    {"type": "ipv4", "value": "999.1.1.1"},  # no valid pattern: left out
    {"type": "sha1", "value": "not-a-hash"},  # idem
]


NAMED = dataclasses.replace(SETTINGS, cert_name="Centre marocain de test")  # CERT_NAME


def _render(
    session: Session, view: Any, now: dt.datetime | None = None, settings: Any = NAMED
) -> dict[str, Any]:
    ctx = formats.RenderContext(session, settings, now=now)
    rendered = formats.by_name("stix").render(ctx, view)
    assert rendered.content_type == "application/stix+json;version=2.1"
    return assert_valid_bundle(rendered.body.decode())


def test_the_format_is_registered() -> None:
    fmt = formats.by_name("stix")
    assert fmt is report.STIX and formats.by_suffix(".stix.json") is fmt


def test_a_published_advisory_is_a_valid_report_bundle(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, revision = published(db_session, clock, world, tlp="green", indicators=INDICATORS)
    view = published_view(db_session, bulletin)
    bundle = _render(db_session, view)
    green = tlp_table()[Tlp.GREEN].stix_id
    (rep,) = by_type(bundle, "report")
    assert rep["name"] == "Vulnérabilité dans FortiOS"
    assert rep["description"] == "Une faille critique…"
    assert rep["lang"] == "fr" and rep["object_marking_refs"] == [green]
    assert rep["published"] == so.timestamp(revision.published_at) == rep["created"]
    assert rep["report_types"] == ["vulnerability", "indicator"]
    assert "risk:critical" in rep["labels"] and "impact:important" in rep["labels"]
    assert rep["external_references"] == [
        {"source_name": "Centre marocain de test", "external_id": bulletin.reference},
        {"source_name": "reference", "url": "https://www.fortiguard.com/psirt/FG-IR-26-001"},
    ]
    (identity,) = by_type(bundle, "identity")
    assert identity["name"] == "Centre marocain de test"
    assert (
        rep["created_by_ref"]
        == identity["id"]
        == so.producer(so.namespace("MACERT"), "MACERT")["id"]  # from the prefix, not the name
    )
    renamed = _render(db_session, view, settings=dataclasses.replace(NAMED, cert_name="CERT-X"))
    assert by_type(renamed, "identity")[0]["id"] == identity["id"]  # a rename: the same producer
    (marking,) = by_type(bundle, "marking-definition")
    assert marking["id"] == green
    (vuln,) = by_type(bundle, "vulnerability")
    assert vuln["name"] == "CVE-2026-21762"
    assert vuln["external_references"] == [{"source_name": "cve", "external_id": "CVE-2026-21762"}]
    indicators = by_type(bundle, "indicator")
    assert len(indicators) == 8  # the two invalid values are left out
    patterns = {i["pattern"] for i in indicators}
    assert "[ipv4-addr:value = '185.220.101.4']" in patterns
    assert "[file:name = 'facture.pdf.exe']" in patterns
    assert "[url:value = 'https://webmail-interieur.com/login.php?a=\\'x\\'']" in patterns
    assert "[file:hashes.'SHA-256' = '" + "a" * 64 + "']" in patterns
    assert "999.1.1.1" not in json.dumps(bundle)
    assert all(i["valid_from"] == rep["published"] for i in indicators)
    assert set(rep["object_refs"]) == {vuln["id"], *(i["id"] for i in indicators)}
    (translated,) = by_type(bundle, "language-content")
    assert translated["object_ref"] == rep["id"]
    assert translated["object_modified"] == rep["modified"]
    assert translated["contents"] == {"ar": {"name": "ثغرة في FortiOS"}}
    for obj in bundle["objects"]:
        if obj["type"] not in ("identity", "marking-definition"):
            assert obj["object_marking_refs"] == [green], obj["type"]
            assert obj["created_by_ref"] == identity["id"]


def test_the_same_revision_gives_the_same_bundle_and_a_revision_a_new_version(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, _ = published(db_session, clock, world, indicators=INDICATORS[:2])
    first = _render(db_session, published_view(db_session, bulletin))
    assert _render(db_session, published_view(db_session, bulletin)) == first
    _, lead, other = people(world)
    clock.advance(hours=2)
    svc.revise(db_session, lead, bulletin, clock=clock)
    texts = {
        "fr": {"title": "Vulnérabilité critique dans FortiOS", "summary": "Une faille…"},
        "ar": {"title": "ثغرة حرجة في FortiOS"},
    }
    changed = draft(indicators=INDICATORS[:3], texts=texts)
    svc.update_draft(db_session, lead, bulletin, changed, clock=clock)
    # the revision in progress does not show: still the first publication
    assert _render(db_session, published_view(db_session, bulletin)) == first
    svc.submit(db_session, lead, bulletin, clock=clock)
    svc.approve(db_session, other, bulletin, clock=clock)
    svc.publish(db_session, lead, bulletin, clock=clock, settings=SETTINGS, change="Nouvel IOC")
    second = _render(db_session, published_view(db_session, bulletin))
    (old,), (new,) = by_type(first, "report"), by_type(second, "report")
    assert new["id"] == old["id"] and new["created"] == old["created"]
    assert new["modified"] > old["modified"] and new["name"].startswith("Vulnérabilité critique")
    old_ids = {o["id"] for o in first["objects"]}
    assert old_ids < {o["id"] for o in second["objects"]}  # same ids, one indicator more
    assert second["id"] != first["id"]
    (translated,) = by_type(second, "language-content")
    assert translated["contents"]["ar"]["name"] == "ثغرة حرجة في FortiOS"
    assert translated["object_modified"] == new["modified"]


def test_a_red_bulletin_and_a_draft_render_valid_marked_bundles(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, _ = published(db_session, clock, world, tlp="red", cves=[], links=[])
    bundle = _render(db_session, published_view(db_session, bulletin))
    (rep,) = by_type(bundle, "report")
    assert rep["object_marking_refs"] == [tlp_table()[Tlp.RED].stix_id]
    assert rep["object_refs"] == [rep["created_by_ref"]]  # nothing else: the author
    author, _, _ = people(world)
    fresh = svc.create_draft(db_session, author, draft(kind="note", tlp="amber"), clock=clock)
    preview = _render(db_session, current_view(db_session, fresh), now=clock.now())
    (rep,) = by_type(preview, "report")
    assert rep["published"] == so.timestamp(clock.now())
    assert "external_references" in rep and all(
        r["source_name"] != NAMED.cert_name for r in rep["external_references"]
    )  # a draft has no reference yet


def test_only_values_that_make_a_valid_pattern_are_indicators() -> None:
    good = [("ipv4", "192.0.2.0/24"), ("ipv6", "2001:db8::/32"), ("domain", "موقع.ma"),
            ("url", "https://a.example/x"), ("email", "a@b.example"), ("md5", "A" * 32),
            ("file", "setup.exe")]  # fmt: skip
    bad = [("ipv4", "2001:db8::1"), ("ipv6", "192.0.2.1"), ("domain", "http://a.example"),
           ("domain", "localhost"), ("url", "a.example/x"), ("email", "nobody"),
           ("sha256", "a" * 63), ("file", "a\nb"), ("cve", "CVE-2026-1234")]  # fmt: skip
    assert all(report.valid_value(kind, value) for kind, value in good)
    assert not any(report.valid_value(kind, value) for kind, value in bad)
