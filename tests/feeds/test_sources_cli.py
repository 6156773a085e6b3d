"""``cert feeds add / add-taxii / list / poll / runs`` against a real database (both backends)
and a real TAXII server (medallion on loopback): clear errors and exit statuses, a password on
the command line refused, counts printed, JSON without secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from cert.cli import cli, load_commands
from core.audit import AuditEntry
from feeds.models import Feed, FeedRun, RunStatus
from tests.dbs import TestDatabase
from tests.kit.taxii import COLLECTION, PASSWORD, USER, Taxii, taxii_server

load_commands()  # ``cert feeds`` comes from the feeds slice's manifest
ENV = "VIGIE_TEST_TAXII_PASSWORD"


@pytest.fixture(scope="module")
def taxii(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Taxii]:
    with taxii_server(tmp_path_factory.mktemp("taxii"), count=70, page_size=30) as server:
        yield server


@pytest.fixture
def invoke(fresh_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
        "CERT_FEEDS_ALLOW_PRIVATE": "1",
        ENV: PASSWORD,
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["feeds", *args], env=env, catch_exceptions=False)

    return run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_add_list_and_errors(invoke: Any, fresh_database: TestDatabase) -> None:
    added = invoke(
        "add",
        "abuse-ips",
        "--kind",
        "csv",
        "--url",
        "https://lists.example.org/ips.txt",
        "--type",
        "ipv4",
        "--column",
        "1",
        "--tlp",
        "white",
        "--interval",
        "3600",
    )
    assert added.exit_code == 0, added.output
    assert "added feed abuse-ips (csv)" in added.output

    again = invoke(
        "add", "abuse-ips", "--kind", "csv", "--url", "https://x.example/", "--type", "ipv4"
    )
    assert again.exit_code == 1
    assert "name: a feed named 'abuse-ips' already exists" in again.output

    bad = invoke("add", "x", "--kind", "stix-url", "--url", "file:///etc/passwd", "--column", "2")
    assert bad.exit_code == 1
    assert "url: only http:// and https:// URLs" in bad.output

    listed = _json(invoke("list", "--json"))
    assert [(f["name"], f["default_tlp"], f["column"]) for f in listed] == [
        ("abuse-ips", "TLP:CLEAR", 1)
    ]
    table = invoke("list")
    assert "abuse-ips" in table.output and "never" in table.output
    with Session(fresh_database.engine) as session:
        [row] = session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.create"))
        assert row.actor_label.startswith("cli:")


def test_a_password_on_the_command_line_is_refused(
    invoke: Any, fresh_database: TestDatabase
) -> None:
    result = invoke(
        "add-taxii",
        "t",
        "--url",
        "https://taxii.example/taxii2/",
        "--collection",
        COLLECTION,
        "--user",
        USER,
        "--password",
        "hunter2",
    )
    assert result.exit_code == 2
    assert "never give a password on the command line" in result.output
    secret = invoke(
        "add-taxii",
        "t",
        "--url",
        "https://taxii.example/taxii2/",
        "--collection",
        COLLECTION,
        "--user",
        USER,
        "--password-env",
        "hunter2",
    )
    assert secret.exit_code == 1 and "password_env" in secret.output
    with Session(fresh_database.engine) as session:
        assert session.scalars(select(Feed)).all() == []


@pytest.mark.slow
def test_poll_prints_counts_and_runs_show_the_history(
    invoke: Any, taxii: Taxii, fresh_database: TestDatabase
) -> None:
    added = invoke(
        "add-taxii",
        "medallion",
        "--url",
        taxii.discovery,
        "--collection",
        COLLECTION,
        "--user",
        USER,
        "--password-env",
        ENV,
        "--interval",
        "600",
    )
    assert added.exit_code == 0, added.output
    invoke(
        "add",
        "unreachable",
        "--kind",
        "csv",
        "--url",
        "http://127.0.0.1:9/list.txt",
        "--type",
        "domain",
    )

    one = invoke("poll", "medallion")
    assert one.exit_code == 0, one.output
    assert "medallion: succeeded — new 70 updated 0 unchanged 0" in one.output

    every = invoke("poll")
    assert every.exit_code == 1, "a run failed"
    assert "medallion: succeeded — new 0" in every.output
    assert "unreachable: failed" in every.output and "error: " in every.output

    unknown = invoke("poll", "nothing")
    assert unknown.exit_code == 1 and "no feed named 'nothing'" in unknown.output

    runs = _json(invoke("runs", "medallion", "--json"))
    assert [(r["new"], r["trigger"], r["status"]) for r in runs] == [
        (0, "cli", "succeeded"),
        (70, "cli", "succeeded"),
    ]
    assert runs[1]["checkpoint_after"] == runs[0]["checkpoint_before"]
    listed = invoke("list", "--json")
    assert PASSWORD not in listed.output
    text = invoke("runs").output
    assert text.count("medallion") == 2 and "unreachable" in text
    with Session(fresh_database.engine) as session:
        statuses = {r.status for r in session.scalars(select(FeedRun))}
        assert statuses == {RunStatus.SUCCEEDED, RunStatus.FAILED}
