"""``cert feeds import PATH [--feed NAME] [--json]`` on both databases: the counts and the
rejections printed, the same as JSON, and a refused document: exit 1, the reason on stderr,
nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from cert.cli import cli, load_commands
from core.db import make_session_factory
from core.uow import transaction
from feeds.models import Feed, FeedRun, Indicator
from tests.dbs import TestDatabase
from tests.feeds.stixdata import bundle, indicator, sid

load_commands()  # ``cert feeds`` comes from the feeds slice's manifest


def _env(db: TestDatabase, tmp_path: Path) -> dict[str, str]:
    return {
        "CERT_DATABASE_URL": db.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }


def test_import_prints_counts_and_rejections(fresh_database: TestDatabase, tmp_path: Path) -> None:
    path = tmp_path / "intel.json"
    path.write_bytes(
        bundle(
            indicator("[ipv4-addr:value = '198.51.100.7']", 1),
            indicator("[domain-name:value = 'evil.example']", 2, confidence=101),
        )
    )
    runner = CliRunner()
    env = _env(fresh_database, tmp_path)
    result = runner.invoke(cli, ["feeds", "import", str(path)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "intel.json → feed manual, run 1: partial"
    assert lines[1].startswith("new 1, updated 0, unchanged 0, revoked 0, expired 0, rejected 1")
    assert lines[2] == (
        f"rejected {sid('indicator', 2)}: confidence 101 is not an integer from 0 to 100"
    )
    again = runner.invoke(
        cli, ["feeds", "import", str(path), "--feed", "manual", "--json"], env=env
    )
    report = json.loads(again.output)
    assert (report["feed"], report["run"], report["status"]) == ("manual", 2, "partial")
    assert report["counts"]["unchanged"] == 1 and report["counts"]["new"] == 0
    assert report["rejections"] == [
        {"ref": sid("indicator", 2), "reason": "confidence 101 is not an integer from 0 to 100"}
    ]


def test_a_refused_document_exits_1_and_writes_nothing(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    page = tmp_path / "feed.json"
    page.write_bytes(b"<!DOCTYPE html><html><title>502 Bad Gateway</title></html>")
    result = CliRunner().invoke(
        cli, ["feeds", "import", str(page)], env=_env(fresh_database, tmp_path)
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "refused: feed.json: an HTML or XML page (an error or login page?), not a feed document\n"
    )
    with transaction(make_session_factory(fresh_database.engine)) as session:
        for model in (Feed, FeedRun, Indicator):
            assert session.scalar(select(func.count()).select_from(model)) == 0
