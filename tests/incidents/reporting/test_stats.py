"""National-report statistics: the figures, /stats.csv and /stats.json (staff only, validated
parameters, formula-safe CSV) and ``cert stats`` on both backends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.db import make_session_factory
from core.identity.authz import Actor
from core.uow import transaction
from incidents.reporting.stats import as_csv, as_json, human_duration, safe_cell, statistics
from tests.dbs import TestDatabase
from tests.incidents.reporting.scenario import NOW, PERIOD, Scenario, build, report, utc
from tests.kit.factories import PASSWORD, make_org, make_user
from tests.kit.web import login, text

load_commands()  # ``cert stats`` comes from the incidents slice's manifest

QUERY = "from=2026-01-01&to=2026-02-28"


@pytest.fixture
def scenario(db_session: Session, clock: FrozenClock) -> Scenario:
    return build(db_session, clock)


def test_the_statistics_of_the_period(db_session: Session, scenario: Scenario) -> None:
    body = as_json(statistics(db_session, Actor.system("test"), PERIOD, now=NOW))
    assert body["period"] == {"from": "2026-01-01", "to": "2026-02-28", "timezone": PERIOD.zone}
    assert body["total"]["incidents"] == 6
    assert {g["key"]: g["incidents"] for g in body["by_month"]} == {"2026-01": 4, "2026-02": 2}
    assert {g["key"]: g["incidents"] for g in body["by_sector"]} == {"government": 4, "health": 2}
    p1 = next(g for g in body["by_priority"] if g["key"] == "P1")
    assert p1["mtta_seconds"] == 6300 and p1["mtta"] == "1h 45m"
    assert p1["mttr_seconds"] == 108000 and p1["mttr"] == "1d 6h"
    assert p1["ack_sla_compliance"] == 0.5 and p1["resolve_sla_compliance"] == 0.0
    fraud = next(g for g in body["by_category"] if g["key"] == "fraud")
    assert fraud["incidents"] == 2 and fraud["mtta_seconds"] == 7200


def test_human_durations_and_formula_safe_cells() -> None:
    assert [human_duration(s) for s in (None, 42, 600, 9000, 200000)] == [
        "",
        "42s",
        "10m",
        "2h 30m",
        "2d 7h",
    ]
    assert [safe_cell(v) for v in ("=1+2", "+33", "-x", "@SUM(A1)", "\tx", "ok", 3)] == [
        "'=1+2",
        "'+33",
        "'-x",
        "'@SUM(A1)",
        "'\tx",
        "ok",
        3,
    ]


def test_a_sector_that_looks_like_a_formula_is_neutralised(
    db_session: Session, clock: FrozenClock
) -> None:
    org = make_org(db_session, clock, sector='=HYPERLINK("http://x")')
    report(db_session, clock, make_user(db_session, clock, org=org), "scan", utc(2026, 1, 5, 9))
    stats = statistics(db_session, Actor.system("test"), PERIOD, now=NOW)
    rows = list(csv.reader(io.StringIO(as_csv(stats))))
    assert ["sector", '\'=HYPERLINK("http://x")'] in [row[:2] for row in rows]
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_staff_download_csv_and_json(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.lead.email, PASSWORD)
    response = client.get(f"/stats.csv?{QUERY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert rows[0]["dimension"] == "total" and rows[0]["incidents"] == "6"
    months = {r["key"]: r["incidents"] for r in rows if r["dimension"] == "month"}
    assert months == {"2026-01": "4", "2026-02": "2"}
    body = client.get(f"/stats.json?{QUERY}").get_json()
    assert body["total"]["incidents"] == 6 and len(body["by_priority"]) == 4


def test_an_analyst_export_leaves_out_red_incidents(
    client: FlaskClient, scenario: Scenario
) -> None:
    login(client, scenario.analyst.email, PASSWORD)
    assert client.get(f"/stats.json?{QUERY}").get_json()["total"]["incidents"] == 5


def test_reporters_may_not_export(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.reporter_sante.email, PASSWORD)
    assert client.get(f"/stats.csv?{QUERY}").status_code == 403
    assert client.get(f"/stats.json?{QUERY}").status_code == 403


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("", {"from", "to"}),
        ("from=2026-01-01", {"to"}),
        ("from=01/01/2026&to=2026-02-01", {"from"}),
        ("from=2026-03-01&to=2026-02-01", {"to"}),
        ("from=2020-01-01&to=2026-02-01", {"to"}),
    ],
)
def test_bad_parameters_are_422_naming_them(
    client: FlaskClient, scenario: Scenario, query: str, fields: set[str]
) -> None:
    login(client, scenario.lead.email, PASSWORD)
    response = client.get(f"/stats.json?{query}")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == fields
    page = client.get(f"/stats.csv?{query}", headers={"Accept": "text/html"})
    assert page.status_code == 422 and all(f"{name}:" in text(page) for name in fields)


def test_the_cli_writes_csv_and_json(
    fresh_database: TestDatabase, tmp_path: Path, clock: FrozenClock
) -> None:
    with transaction(make_session_factory(fresh_database.engine)) as session:
        build(session, clock)
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }
    runner = CliRunner()
    args = ["stats", "--from", "2026-01-01", "--to", "2026-02-28"]
    result = runner.invoke(cli, [*args, "--format", "csv"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("total,,6,")
    out = tmp_path / "stats.json"
    result = runner.invoke(
        cli, [*args, "--format", "json", "--output", str(out)], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0 and json.loads(out.read_text())["total"]["incidents"] == 6
    bad = runner.invoke(cli, ["stats", "--from", "2026-02-30", "--to", "2026-03-01"], env=env)
    assert bad.exit_code == 1 and "from: not a date" in bad.output
