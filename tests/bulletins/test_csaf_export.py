"""Bulletins as CSAF 2.0 documents, on both databases: each export validates under the official
OASIS schema (offline) and passes the §6.1 mandatory tests; advisories carry their products,
CVEs, scores and remediations, other kinds are csaf_base with their indicators; the TLP is
carried (TLP 1.0 labels); the export reads the published view, never a revision in progress."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from bulletins.authoring import services as svc
from bulletins.csaf import checks
from bulletins.csaf.export import csaf_file_name, document
from bulletins.models import Bulletin
from bulletins.outputs import formats
from bulletins.outputs.formats import RenderContext
from bulletins.outputs.view import BulletinView, current_view, published_view
from bulletins.settings import BulletinSettings
from core.clock import FrozenClock
from tests.bulletins.csaf_oasis import oasis_problems
from tests.bulletins.test_authoring import SETTINGS, draft, people, published
from tests.kit.world import World

SITE = BulletinSettings(
    reference_prefix="MACERT", cert_name="maCERT", base_url="https://cert.example.ma"
)
SCORES = [
    {
        "cve": "CVE-2026-21762",
        "version": "3.1",
        "base_score": 9.8,
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    },
    {
        "cve": "CVE-2026-21763",
        "version": "3.1",
        "base_score": 6.5,
        "vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    },
    {
        "cve": "CVE-2026-21763",
        "version": "2.0",
        "base_score": 4.0,
        "vector": "AV:N/AC:L/Au:S/C:P/I:N/A:N",
    },
    {
        "cve": "CVE-2026-21763",
        "version": "4.0",
        "base_score": 8.7,
        "vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    },
]
AFFECTED = [
    {"vendor": "Fortinet", "product": "FortiOS", "versions": "7.0 < 7.0.14"},
    {"vendor": "Fortinet", "product": "FortiOS", "versions": "7.2.0"},
    {"vendor": "Fortinet", "product": "FortiProxy", "versions": ""},
    {
        "vendor": "Ivanti",
        "product": "Connect Secure",
        "versions": "toutes versions antérieures à 22.7R2.5",
    },
]


def export(session: Session, bulletin: Bulletin, *, preview: bool = False) -> dict[str, Any]:
    view = current_view(session, bulletin) if preview else published_view(session, bulletin)
    assert view is not None
    ctx = RenderContext(session, SITE, base_url="", now=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    rendered = formats.by_name("csaf").render(ctx, view)
    assert rendered.content_type == "application/json"
    doc: dict[str, Any] = json.loads(rendered.body.decode("utf-8"))
    assert oasis_problems(doc) == []
    assert checks.problems(doc) == []
    return doc


def test_an_advisory_is_a_valid_security_advisory(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, _ = published(
        db_session,
        clock,
        world,
        cves=["CVE-2026-21762", "CVE-2026-21763"],
        scores=SCORES,
        affected=AFFECTED,
    )
    doc = export(db_session, bulletin)
    meta = doc["document"]
    assert meta["category"] == "csaf_security_advisory" and meta["csaf_version"] == "2.0"
    assert meta["publisher"] == {
        "category": "coordinator",
        "name": "maCERT",
        "namespace": "https://cert.example.ma",
    }
    assert meta["title"] == "Vulnérabilité dans FortiOS" and meta["lang"] == "fr"
    assert meta["aggregate_severity"]["text"] == "Critique"
    assert meta["distribution"]["tlp"]["label"] == "WHITE"
    tracking = meta["tracking"]
    assert tracking["id"] == bulletin.reference and tracking["status"] == "final"
    assert tracking["version"] == "1" and tracking["generator"]["engine"]["name"] == "Vigie"
    assert [r["number"] for r in tracking["revision_history"]] == ["1"]
    assert {
        "category": "self",
        "summary": f"{bulletin.reference} (archive publique)",
        "url": f"https://cert.example.ma/advisories/{bulletin.reference}",
    } in meta["references"]
    assert {
        "category": "external",
        "summary": "https://www.fortiguard.com/psirt/FG-IR-26-001",
        "url": "https://www.fortiguard.com/psirt/FG-IR-26-001",
    } in meta["references"]
    assert {n["category"] for n in meta["notes"]} >= {
        "summary",
        "details",
        "general",
        "legal_disclaimer",
    }
    vendors = doc["product_tree"]["branches"]
    assert [v["name"] for v in vendors] == ["Fortinet", "Ivanti"]
    fortios = vendors[0]["branches"][0]
    assert [(b["category"], b["name"]) for b in fortios["branches"]] == [
        ("product_version_range", "7.0 < 7.0.14"),
        ("product_version", "7.2.0"),
    ]
    assert vendors[0]["branches"][1]["product"]["name"] == "Fortinet FortiProxy"
    vulns = doc["vulnerabilities"]
    assert [v["cve"] for v in vulns] == ["CVE-2026-21762", "CVE-2026-21763"]
    ids = ["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0003", "CSAFPID-0004"]
    assert vulns[0]["product_status"] == {"known_affected": ids}
    assert vulns[0]["remediations"][0]["category"] == "vendor_fix"
    assert vulns[0]["scores"] == [
        {
            "cvss_v3": {
                "version": "3.1",
                "baseScore": 9.8,
                "baseSeverity": "CRITICAL",
                "vectorString": SCORES[0]["vector"],
            },
            "products": ids,
        }
    ]
    # v3.1 and v2 kept, v4.0 has no place in CSAF 2.0
    assert [next(iter(s.keys() - {"products"})) for s in vulns[1]["scores"]] == [
        "cvss_v3",
        "cvss_v2",
    ]
    assert vulns[1]["threats"] == [
        {"category": "impact", "details": "Important", "product_ids": ids}
    ]
    # the Arabic version does not leak into the French CSAF document
    assert "ثغرة" not in json.dumps(doc, ensure_ascii=False)


def test_alerts_and_notes_are_csaf_base_with_their_indicators(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    alert, _ = published(
        db_session,
        clock,
        world,
        kind="alert",
        cves=[],
        tlp="green",
        texts={
            "fr": {"title": "Campagne d'hameçonnage", "summary": "En cours"},
            "ar": {"title": "حملة تصيد احتيالي"},
        },
    )
    doc = export(db_session, alert)
    assert doc["document"]["category"] == "csaf_base" and "vulnerabilities" not in doc
    assert doc["document"]["distribution"]["tlp"]["label"] == "GREEN"
    indicators = [
        {"type": "ipv4", "value": "203.0.113.7"},
        {"type": "domain", "value": "evil.example"},
        {"type": "sha256", "value": "a" * 64},
    ]
    note, _ = published(
        db_session,
        clock,
        world,
        kind="note",
        indicators=indicators,
        texts={"fr": {"title": "Rançongiciel « SkullLocker » — مؤشرات"}},
    )
    doc = export(db_session, note)
    assert doc["document"]["title"] == "Rançongiciel « SkullLocker » — مؤشرات"
    iocs = next(n for n in doc["document"]["notes"] if n["category"] == "other")
    assert iocs["title"] == "Indicateurs de compromission (IOCs)"
    assert "IP :\n203.0.113.7" in iocs["text"] and "evil.example" in iocs["text"]
    assert f"Hashs (SHA-256) :\n{'a' * 64}" in iocs["text"]


def _republish(
    session: Session,
    clock: FrozenClock,
    world: World,
    bulletin: Bulletin,
    change: str,
    **changes: Any,
) -> None:
    author, lead, _ = people(world)
    svc.revise(session, author, bulletin, clock=clock)
    svc.update_draft(session, author, bulletin, draft(**changes), clock=clock)
    svc.submit(session, author, bulletin, clock=clock)
    svc.approve(session, lead, bulletin, clock=clock)
    svc.publish(session, lead, bulletin, clock=clock, settings=SETTINGS, change=change)


def test_three_revisions_make_the_revision_history(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin, _ = published(db_session, clock, world)
    clock.advance(days=1)
    _republish(db_session, clock, world, bulletin, "Versions corrigées", risk="important")
    clock.advance(hours=3)
    _republish(
        db_session,
        clock,
        world,
        bulletin,
        "Ajout du CVE-2026-21763",
        cves=["CVE-2026-21762", "CVE-2026-21763"],
    )
    doc = export(db_session, bulletin)
    tracking = doc["document"]["tracking"]
    assert tracking["version"] == "3" and tracking["status"] == "final"
    history = tracking["revision_history"]
    assert [(r["number"], r["summary"]) for r in history] == [
        ("1", "Version initiale"),
        ("2", "Versions corrigées"),
        ("3", "Ajout du CVE-2026-21763"),
    ]
    assert history[0]["date"] == tracking["initial_release_date"]
    assert history[2]["date"] == tracking["current_release_date"] != history[0]["date"]
    assert len(doc["vulnerabilities"]) == 2


def test_a_revision_in_progress_is_not_exported_and_a_preview_is_a_draft(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    author, _, _ = people(world)
    bulletin, _ = published(db_session, clock, world)
    svc.revise(db_session, author, bulletin, clock=clock)
    secret = draft(texts={"fr": {"title": "Titre pas encore publié"}}, cves=["CVE-2026-99999"])
    svc.update_draft(db_session, author, bulletin, secret, clock=clock)
    doc = export(db_session, bulletin)
    assert doc["document"]["title"] == "Vulnérabilité dans FortiOS"
    assert "CVE-2026-99999" not in json.dumps(doc)
    preview = export(db_session, bulletin, preview=True)
    assert preview["document"]["tracking"]["status"] == "draft"
    assert preview["document"]["tracking"]["version"] == "2"
    assert preview["document"]["title"] == "Titre pas encore publié"
    never = svc.create_draft(db_session, author, draft(), clock=clock)
    assert published_view(db_session, never) is None
    first = export(db_session, never, preview=True)["document"]["tracking"]
    assert (first["status"], first["version"], first["id"]) == (
        "draft",
        "0",
        f"bulletin-{never.id}-draft",
    )


def test_the_tlp_is_carried_in_tlp_1_labels(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    cases = {
        "TLP:RED": "RED",
        "TLP:AMBER": "AMBER",
        "TLP:AMBER+STRICT": "AMBER",
        "TLP:GREEN": "GREEN",
        "TLP:CLEAR": "WHITE",
    }
    for tlp, label in cases.items():
        bulletin, _ = published(db_session, clock, world, tlp=tlp)
        meta = export(db_session, bulletin)["document"]
        assert meta["distribution"]["tlp"]["label"] == label, tlp
        assert meta["distribution"]["text"].startswith(tlp + " :"), tlp
        # the public archive only holds TLP:CLEAR bulletins: no self link to it otherwise
        selfs = [r for r in meta.get("references", []) if r["category"] == "self"]
        assert bool(selfs) == (tlp == "TLP:CLEAR"), tlp


def test_the_csaf_file_name_rule() -> None:
    assert csaf_file_name("MACERT-AVI-2026-0042") == "macert-avi-2026-0042.json"
    assert csaf_file_name("MA-CERT 2024/001") == "ma-cert_2024_001.json"
    assert csaf_file_name("RHSA-2021:5217") == "rhsa-2021_5217.json"


def test_an_advisory_without_systems_or_cves_still_validates() -> None:
    from bulletins.models import BulletinKind, RiskLevel
    from bulletins.outputs.view import RevisionView, TextView
    from core.markings import Tlp

    at = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    view = BulletinView(
        id=7,
        reference="MACERT-AVI-2026-0007",
        kind=BulletinKind.ADVISORY,
        tlp=Tlp.CLEAR,
        risk=RiskLevel.LOW,
        impact=RiskLevel.LOW,
        texts={"fr": TextView("fr", "Vulnérabilité dans un produit")},
        revision=1,
        revisions=(RevisionView(1, "Version initiale", at),),
        published_at=at,
        revised_at=at,
    )
    doc = document(view, BulletinSettings())
    assert oasis_problems(doc) == [] and checks.problems(doc) == []
    assert doc["document"]["publisher"]["namespace"] == "https://vigie.invalid"
    assert doc["vulnerabilities"][0]["title"] == "Vulnérabilité dans un produit"
