"""``cert bulletins list|new|submit|approve|send-back|revise`` on both databases, through the
real ``cert`` group: drafts from scratch, incidents and CVE ids, the workflow with a second lead
approving as ``--as``, and clean errors (exit 1, one line, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from bulletins.models import Bulletin, BulletinStatus
from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.identity.models import Role
from tests.dbs import TestDatabase
from tests.kit.factories import report
from tests.kit.world import World

load_commands()


def test_writing_and_reviewing_from_the_command_line(
    fresh_database: TestDatabase,
    factory: sessionmaker[Session],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    with factory() as session:
        world = World(session, clock)
        incident = report(session, clock, world.reporter, tlp="TLP:AMBER")
        red = report(session, clock, world.other_reporter, tlp="TLP:RED")
        world.user(role=Role.LEAD, email="nadia@cert.gov.ma")
        lead_email, analyst_email = world.lead.email, world.analyst.email
        refs = incident.reference, red.reference
        session.commit()
    env = {"CERT_DATABASE_URL": fresh_database.url, "CERT_SECRET_KEY": "s" * 40,
           "CERT_INSTANCE_DIR": str(tmp_path / "instance")}  # fmt: skip
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["bulletins", *args], env=env)
        return result.exit_code, result.output

    code, out = run("new", "--kind", "alert", "--title", "Campagne d'hameçonnage",
                    "--from-incident", refs[0], "--cve", "cve-2026-4242", "--json")  # fmt: skip
    assert code == 0, out
    made = json.loads(out)
    assert made["title"] == "Campagne d'hameçonnage" and made["tlp"] == "TLP:AMBER"
    assert made["cves"] == ["CVE-2026-4242"] and made["indicators"] > 0
    assert made["source"] == "incidents" and made["status"] == "draft"
    code, out = run("new", "--kind", "advisory", "--title", "Avis", "--cve", "CVE-2026-1")
    assert code == 1 and "CVE-2026-1" in out and "Traceback" not in out
    code, out = run("new", "--kind", "alert", "--title", "X", "--from-incident", "MACERT-2026-1")
    assert code == 1 and "no incident MACERT-2026-1" in out
    code, out = run("new", "--kind", "note", "--title", "Note", "--tlp", "purple")
    assert code == 1 and "tlp" in out
    code, out = run("new", "--kind", "note", "--title", "Note simple")
    assert code == 0 and out.startswith("draft ")
    ident = str(made["id"])
    assert run("submit", ident) == (0, f"bulletin {ident}: review\n")
    code, out = run("approve", ident, "--as", analyst_email)
    assert code == 1 and "not a lead" in out
    code, out = run("approve", ident, "--as", "nobody@cert.gov.ma")
    assert code == 1 and "no active account" in out
    code, out = run("send-back", ident, "--reason", " ")
    assert code == 1 and "reason" in out
    assert run("send-back", ident, "--reason", "Préciser la solution")[0] == 0
    assert run("submit", ident)[0] == 0
    assert run("approve", ident, "--as", lead_email) == (0, f"bulletin {ident}: approved\n")
    code, out = run("revise", ident)
    assert code == 1 and "only a published bulletin" in out
    code, out = run("submit", "999999")
    assert code == 1 and "no bulletin 999999" in out
    code, out = run("list", "--status", "approved", "--json")
    listed = json.loads(out)
    assert listed["total"] == 1 and listed["bulletins"][0]["id"] == made["id"]
    code, out = run("list")
    assert "Note simple" in out and "Campagne d'hameçonnage" in out
    with factory() as session:
        bulletin = session.get_one(Bulletin, made["id"])
        assert bulletin.status is BulletinStatus.APPROVED and bulletin.approved_by_id is not None
        assert len(session.query(Bulletin).all()) == 2  # the refused ones wrote nothing
