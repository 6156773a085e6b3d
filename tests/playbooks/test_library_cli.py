"""``cert playbooks import|export|list`` on both databases, through the real ``cert`` group:
import (text and JSON), the same version again, every problem of an invalid document on stderr
with exit 1 and nothing stored, a conflict, export byte for byte by row id and by CACAO id,
and the list with its filters."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from cert.cli import cli, load_commands
from core.db import make_session_factory
from core.uow import transaction
from playbooks.models import Playbook
from tests.dbs import TestDatabase
from tests.playbooks.cacao_kit import document, sid, text

load_commands()
PUBLISHED = Path(__file__).resolve().parent.parent / "data" / "cacao" / "published"


def _env(db: TestDatabase, tmp_path: Path) -> dict[str, str]:
    return {
        "CERT_DATABASE_URL": db.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }


def _count(db: TestDatabase) -> int:
    with transaction(make_session_factory(db.engine)) as session:
        return int(session.scalar(select(func.count()).select_from(Playbook)) or 0)


def test_import_export_and_list(fresh_database: TestDatabase, tmp_path: Path) -> None:
    env, runner = _env(fresh_database, tmp_path), CliRunner()
    first = document(modified="2026-11-01T08:00:00.000Z", name="Rançongiciel — réponse")
    path = tmp_path / "ransomware.json"
    path.write_text(text(first), "utf-8")
    result = runner.invoke(cli, ["playbooks", "import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported Rançongiciel — réponse (version 2026-11-01T08:00:00.000Z)\n"
    again = runner.invoke(cli, ["playbooks", "import", str(path), "--json"], env=env)
    report = json.loads(again.stdout)
    assert report["status"] == "already imported" and again.exit_code == 0
    assert report["playbook"]["cacao_id"] == first["id"] and report["playbook"]["current"]
    newer = document(pid=first["id"], modified="2026-11-02T08:00:00.000Z", types=("detection",))
    (tmp_path / "v2.json").write_text(text(newer), "utf-8")
    v2 = runner.invoke(cli, ["playbooks", "import", str(tmp_path / "v2.json"), "--json"], env=env)
    assert json.loads(v2.stdout)["status"] == "imported"
    manual = PUBLISHED / "soarca-manual-playbook.json"
    assert runner.invoke(cli, ["playbooks", "import", str(manual)], env=env).exit_code == 0

    exported = runner.invoke(cli, ["playbooks", "export", first["id"]], env=env)
    assert exported.exit_code == 0 and exported.stdout == text(newer)  # the current version
    by_row = runner.invoke(cli, ["playbooks", "export", str(report["playbook"]["id"])], env=env)
    assert by_row.stdout == text(first)
    soarca_id = "playbook--fe65ef7b-e8b1-4ed9-ba60-3c380ae5ab28"
    soarca = runner.invoke(cli, ["playbooks", "export", soarca_id], env=env)
    assert soarca.stdout_bytes == manual.read_bytes()
    missing = runner.invoke(cli, ["playbooks", "export", sid("playbook")], env=env)
    assert missing.exit_code == 1 and "no playbook" in missing.stderr

    listed = runner.invoke(cli, ["playbooks", "list", "--json"], env=env)
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["phase"], r["version"]) for r in rows] == [
        ("Example manual", "before", "2025-01-21T14:14:23.263Z"),
        ("Test playbook", "before", "2026-11-02T08:00:00.000Z"),
    ]
    after = runner.invoke(cli, ["playbooks", "list", "--phase", "after", "--all-versions"], env=env)
    assert after.stdout.splitlines() == [
        f"{report['playbook']['id']:>5}  after  enabled  2026-11-01T08:00:00.000Z  "
        f"Rançongiciel — réponse  {first['id']}  (older version)"
    ]
    table = runner.invoke(cli, ["playbooks", "list", "--phase", "before"], env=env)
    assert len(table.stdout.splitlines()) == 2 and "Example manual" in table.stdout


def test_an_invalid_document_lists_every_problem_and_stores_nothing(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    env, runner = _env(fresh_database, tmp_path), CliRunner()
    broken = PUBLISHED / "oasis-basic-example-a-2-1.json"
    result = runner.invoke(cli, ["playbooks", "import", str(broken)], env=env)
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 9
    assert lines[0] == "$.agents: unknown property (did you mean 'agent_definitions'?)"
    assert (
        "$.workflow['action--6398eb05-3eb8-43f5-87d3-f24e07492a41'].commands[0].type: "
        "Vigie does not run ssh commands: only manual, http-api and x-vigie"
    ) in lines
    as_json = runner.invoke(cli, ["playbooks", "import", str(broken), "--json"], env=env)
    report = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and report["status"] == "invalid"
    assert len(report["problems"]) == 9 and report["problems"][0]["path"] == "$.agents"
    for content in (b"[1, 2]", b'{"type": "playbook"\x00}', b"\xff\xfe{", b"[" * 100_000):
        (tmp_path / "bad.json").write_bytes(content)
        bad = runner.invoke(cli, ["playbooks", "import", str(tmp_path / "bad.json")], env=env)
        assert bad.exit_code == 1 and bad.stderr.startswith("$: "), bad.output
    (tmp_path / "huge.json").write_bytes(b" " * (2 * 1024 * 1024 + 1))
    huge = runner.invoke(cli, ["playbooks", "import", str(tmp_path / "huge.json")], env=env)
    assert huge.stderr == "$: larger than 2097152 bytes\n"
    assert _count(fresh_database) == 0


def test_a_changed_document_with_the_same_version_is_a_conflict(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    env, runner = _env(fresh_database, tmp_path), CliRunner()
    doc = document()
    (tmp_path / "a.json").write_text(text(doc), "utf-8")
    (tmp_path / "b.json").write_text(text({**doc, "name": "Changed"}), "utf-8")
    assert (
        runner.invoke(cli, ["playbooks", "import", str(tmp_path / "a.json")], env=env).exit_code
        == 0
    )
    result = runner.invoke(cli, ["playbooks", "import", str(tmp_path / "b.json")], env=env)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "version already imported with other content",
        "$.modified: a changed playbook needs a newer 'modified'",
    ]
    as_json = runner.invoke(
        cli, ["playbooks", "import", str(tmp_path / "b.json"), "--json"], env=env
    )
    assert json.loads(as_json.stdout)["status"] == "conflict"
    assert _count(fresh_database) == 1
