"""Importing vendors' CSAF 2.0 advisories as drafts, on both databases: real advisories (BSI,
Red Hat) from a file and from a URL served on loopback, through ``cert bulletins import-csaf`` and
the importer; broken documents are refused with every problem listed and nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.csaf.importer import CsafRejected, import_advisory, parse
from bulletins.models import Bulletin, BulletinKind, BulletinSource, BulletinStatus, RiskLevel
from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.identity.authz import Actor
from tests.bulletins.csaf_oasis import VENDORS
from tests.dbs import TestDatabase
from tests.feeds.served import serve
from tests.kit.world import World

load_commands()
BSI = VENDORS / "bsi-2022-0001.json"
REDHAT = VENDORS / "rhsa-2021_5217.json"


def test_a_real_advisory_becomes_a_french_draft(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin = import_advisory(
        db_session,
        Actor.for_user(world.analyst),
        BSI.read_bytes(),
        origin=BSI.name,
        published=False,
        clock=clock,
    )
    assert (bulletin.kind, bulletin.status, bulletin.source) == (
        BulletinKind.ADVISORY,
        BulletinStatus.DRAFT,
        BulletinSource.CSAF,
    )
    assert bulletin.reference is None
    assert bulletin.source_ref == "bsi-2022-0001.json (BSI-2022-0001)"
    text = bulletin.text("fr")
    assert text is not None
    assert text.title == (
        "Vulnérabilité dans CSAF Tools CVRF-CSAF-Converter — "
        "CVRF-CSAF-Converter: XML External Entities Vulnerability"
    )
    assert bulletin.cves == ["CVE-2022-27193"]
    assert bulletin.scores == [
        {
            "cve": "CVE-2022-27193",
            "version": "3.1",
            "base_score": 6.1,
            "vector": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:L/E:F/RL:O/RC:C",
        }
    ]
    assert bulletin.affected == [
        {
            "vendor": "CSAF Tools",
            "product": "CVRF-CSAF-Converter",
            "versions": "1.0.0-alpha, 1.0.0-dev1, 1.0.0-dev2, 1.0.0-dev3, 1.0.0-rc1",
        }
    ]
    assert bulletin.risk == RiskLevel.MODERATE and bulletin.tlp == "TLP:CLEAR"  # WHITE
    assert text.solution.startswith("Correctif de l'éditeur : Update to the latest version")
    assert "resolves XML External Entities" in text.summary
    assert text.risks == "CWE-611 : Improper Restriction of XML External Entity Reference"
    assert bulletin.links == [
        "https://github.com/csaf-tools/CVRF-CSAF-Converter/releases/tag/1.0.0-rc2"
    ]


def test_a_vendor_advisory_without_known_affected_or_scores(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    bulletin = import_advisory(
        db_session,
        Actor.for_user(world.analyst),
        REDHAT.read_bytes(),
        origin=REDHAT.name,
        published=True,
        clock=clock,
    )
    assert bulletin.affected == [
        {"vendor": "Red Hat", "product": "Red Hat Single Sign-On", "versions": ""}
    ]
    assert bulletin.scores == [] and bulletin.risk == RiskLevel.IMPORTANT  # aggregate severity
    assert bulletin.text("fr").title.startswith("Vulnérabilité dans Red Hat Red Hat Single")  # type: ignore[union-attr]
    assert "https://access.redhat.com/errata/RHSA-2021:5217" in bulletin.links
    assert "https://github.com/keycloak/keycloak/issues/9247" in bulletin.links


def _doc(**document: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(BSI.read_text("utf-8"))
    doc["document"].update(document)
    return doc


def test_a_missing_tlp_is_clear_from_a_url_and_amber_from_a_file(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    doc = _doc()
    del doc["document"]["distribution"]
    raw = json.dumps(doc).encode()
    actor = Actor.for_user(world.analyst)
    from_url = import_advisory(
        db_session, actor, raw, origin="https://x.example/a.json", published=True, clock=clock
    )
    from_file = import_advisory(
        db_session, actor, raw, origin="a.json", published=False, clock=clock
    )
    assert (from_url.tlp, from_file.tlp) == ("TLP:CLEAR", "TLP:AMBER")
    red = json.dumps(_doc(distribution={"tlp": {"label": "RED"}})).encode()
    assert (
        import_advisory(db_session, actor, red, origin="r.json", published=True, clock=clock).tlp
        == "TLP:RED"
    )


BROKEN: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"<html>not json</html>", "is not JSON"),
    "NUL bytes": (b'{"document": {}}\x00', "NUL bytes"),
    "not UTF-8": (b'{"document": "\xff"}', "not UTF-8"),
    "NUL escape": (b'{"document": {"title": "a\\u0000b"}}', "NUL characters"),
    "lone surrogate": (b'{"document": {"title": "a\\ud800b"}}', "lone surrogate"),
    "nested": (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    "not CSAF": (b"[1, 2]", "not a CSAF document"),
    "CSAF 1.2": (json.dumps(_doc(csaf_version="1.2")).encode(), "only CSAF 2.0"),
    "schema": (json.dumps(_doc(category="")).encode(), "breaks the CSAF 2.0 schema"),
    "6.1": (
        json.dumps(_doc(tracking={**_doc()["document"]["tracking"], "version": "2"})).encode(),
        "6.1.16 /document/tracking/version",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_documents_are_refused_clearly(case: str) -> None:
    raw, expected = BROKEN[case]
    with pytest.raises(CsafRejected) as caught:
        parse(raw)
    assert expected in f"{caught.value.message} {caught.value.fields['document']}", case


# ---------------------------------------------------------------- the command line
@pytest.fixture
def invoke(fresh_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*args: str, allow_private: bool = False) -> Result:
        env = {
            "CERT_DATABASE_URL": fresh_database.url,
            "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
            "CERT_SECRET_KEY": "s" * 40,
            "CERT_BASE_URL": "https://cert.example.ma",
            "CERT_FEEDS_ALLOW_PRIVATE": "1" if allow_private else "0",
        }
        return CliRunner().invoke(cli, ["bulletins", "import-csaf", *args], env=env)

    return run


def _count(db: TestDatabase) -> int:
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(Bulletin)) or 0


def test_the_command_imports_from_a_file_and_a_url(
    invoke: Any, fresh_database: TestDatabase, tmp_path: Path
) -> None:
    done = invoke(str(BSI))
    assert done.exit_code == 0, done.output
    first, url = done.output.splitlines()
    assert first.startswith("draft ") and "CVRF-CSAF-Converter" in first
    assert url.strip().startswith("https://cert.example.ma/bulletins/")
    with serve(VENDORS) as served:
        refused = invoke(f"{served.base}/rhsa-2021_5217.json", "--json")
        assert refused.exit_code == 1 and "private or reserved address" in refused.output
        assert _count(fresh_database) == 1
        fetched = invoke(f"{served.base}/rhsa-2021_5217.json", "--json", allow_private=True)
        missing = invoke(f"{served.base}/nothing.json", allow_private=True)
    assert fetched.exit_code == 0, fetched.output
    answer = json.loads(fetched.output)
    assert answer["status"] == "draft" and answer["cves"] == ["CVE-2021-4133"]
    assert answer["source_ref"] == f"{served.base}/rhsa-2021_5217.json (RHSA-2021:5217)"
    assert answer["url"] == f"https://cert.example.ma/bulletins/{answer['id']}"
    assert missing.exit_code == 1 and "HTTP 404" in missing.output
    assert _count(fresh_database) == 2


def test_the_command_refuses_broken_documents_and_writes_nothing(
    invoke: Any, fresh_database: TestDatabase, tmp_path: Path
) -> None:
    for case, (raw, expected) in BROKEN.items():
        path = tmp_path / f"{case.replace(' ', '_')}.json"
        path.write_bytes(raw)
        result = invoke(str(path))
        assert result.exit_code == 1, (case, result.output)
        assert "Error:" in result.output and expected in result.output, (case, result.output)
        assert "Traceback" not in result.output
    huge = tmp_path / "huge.json"
    huge.write_bytes(b'{"document": "' + b"a" * (17 * 1024 * 1024) + b'"}')
    result = invoke(str(huge))
    assert result.exit_code == 1 and "over the 16777216-byte limit" in result.output
    gone = invoke(str(tmp_path / "absent.json"))
    assert gone.exit_code == 1 and "cannot read" in gone.output
    assert _count(fresh_database) == 0


def test_an_exported_advisory_imports_back(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    from tests.bulletins.test_authoring import published
    from tests.bulletins.test_csaf_export import AFFECTED, SCORES, export

    source, _ = published(
        db_session,
        clock,
        world,
        cves=["CVE-2026-21762", "CVE-2026-21763"],
        scores=SCORES,
        affected=AFFECTED,
        tlp="amber",
    )
    raw = json.dumps(export(db_session, source)).encode()
    again = import_advisory(
        db_session,
        Actor.for_user(world.analyst),
        raw,
        origin="x.json",
        published=False,
        clock=clock,
    )
    assert again.cves == source.cves and again.tlp == "TLP:AMBER"
    assert again.risk == RiskLevel.CRITICAL  # 9.8
    assert [(s["cve"], s["version"]) for s in again.scores] == [
        ("CVE-2026-21762", "3.1"),
        ("CVE-2026-21763", "3.1"),
        ("CVE-2026-21763", "2.0"),
    ]
    assert again.affected == [
        {"vendor": "Fortinet", "product": "FortiOS", "versions": "7.0 < 7.0.14, 7.2.0"},
        {"vendor": "Fortinet", "product": "FortiProxy", "versions": ""},
        {
            "vendor": "Ivanti",
            "product": "Connect Secure",
            "versions": "toutes versions antérieures à 22.7R2.5",
        },
    ]
    assert again.text("fr").title.startswith(  # type: ignore[union-attr]
        "Vulnérabilités dans Fortinet FortiOS, Fortinet FortiProxy, Ivanti Connect Secure — "
    )
    assert again.links == [
        "https://www.fortiguard.com/psirt/FG-IR-26-001",
        "https://www.cve.org/CVERecord?id=CVE-2026-21762",
        "https://www.cve.org/CVERecord?id=CVE-2026-21763",
    ]
