"""The dashboard and the statistics per vigilance centre (issue 22), on both backends: a centre's
figures count its incidents only (the live part and the period's), the national view has a table
per centre, and a finance analyst's dashboard, statistics and exports never count a health
incident — whatever ``?centre=`` they ask for, from the daily aggregate or not."""

from __future__ import annotations

import datetime as dt
import json
import re
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
from incidents.daily import differences
from incidents.models import IncidentShare, IncidentStatus, ShareMode
from incidents.reporting.by_centre import by_centre
from incidents.reporting.dashboard import Period, dashboard
from incidents.reporting.stats import as_csv, statistics
from incidents.rules.priority import Priority
from tests.dbs import TestDatabase
from tests.incidents.queue.centres_scene import CentreScene, centre_scene
from tests.kit.web import sign_in, text
from tests.kit.world import World

ZONE = "Africa/Casablanca"
load_commands()  # ``cert stats`` comes from the incidents slice's manifest


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, world: World) -> CentreScene:
    return arrange(centre_scene(db_session, clock, world, per_centre=3), clock)


def arrange(scene: CentreScene, clock: FrozenClock) -> CentreScene:
    """Health: one closed, one acknowledged on time, one P1 open; finance: three open, none
    acknowledged; national: one acknowledged late."""
    now = clock.now()
    first, second, third = scene.health_incidents
    first.status, first.acknowledged_at = IncidentStatus.CLOSED, first.received_at
    first.resolved_at = first.received_at + dt.timedelta(hours=1)
    second.status, second.acknowledged_at = IncidentStatus.TRIAGED, second.received_at
    third.priority = Priority.P1
    for incident in scene.finance_incidents:
        incident.priority = Priority.P3
    late = scene.national_incidents[0]
    late.acknowledged_at = late.ack_due_at + dt.timedelta(hours=1)
    late.status = IncidentStatus.TRIAGED
    assert late.acknowledged_at > now - dt.timedelta(days=1)
    for incident in scene.national_incidents:
        incident.priority = Priority.P4
    first.priority = second.priority = Priority.P3
    return scene


def _period(clock: FrozenClock) -> Period:
    return Period.last_days(30, now=clock.now() + dt.timedelta(days=1), zone=ZONE)


# ---------------------------------------------------------------- read side
@pytest.mark.parametrize("daily", [None, True, False])
def test_a_centres_dashboard_counts_its_incidents_only(
    db_session: Session, clock: FrozenClock, world: World, scene: CentreScene, daily: bool | None
) -> None:
    db_session.flush()
    lead, now = Actor.for_user(world.lead), clock.now() + dt.timedelta(days=1)
    board = dashboard(
        db_session, lead, _period(clock), now=now, centre=scene.health.id, daily=daily
    )
    assert board.overall.count == 3
    assert sum(b.total for b in board.over_time) == 3
    assert [g.key for g in board.by_organisation] == ["min-sante"]
    assert board.open_by_priority == {"P1": 1, "P2": 0, "P3": 1, "P4": 0}
    national = dashboard(db_session, lead, _period(clock), now=now, daily=daily)
    assert national.overall.count == 9 and sum(national.open_by_priority.values()) == 8


@pytest.mark.parametrize("daily", [None, True, False])
def test_a_finance_analyst_never_counts_a_health_incident(
    db_session: Session, clock: FrozenClock, scene: CentreScene, daily: bool | None
) -> None:
    db_session.flush()
    finance, now = Actor.for_user(scene.finance_analyst), clock.now() + dt.timedelta(days=1)
    for centre in (None, scene.finance.id, scene.health.id, scene.national.id):
        board = dashboard(db_session, finance, _period(clock), now=now, centre=centre, daily=daily)
        expected = 3 if centre in (None, scene.finance.id) else 0
        assert board.overall.count == expected
        assert sum(b.total for b in board.over_time) == expected
        assert sum(board.open_by_priority.values()) == expected
        assert {g.key for g in board.by_organisation} <= {"min-finances"}
        assert {g.key for g in board.by_sector} <= {"finance"}
    stats = statistics(db_session, finance, _period(clock), now=now)
    assert stats.overall.count == 3
    assert [(g.key, g.figures.count) for g in stats.groups["centre"]] == [("finance", 3)]
    assert "health" not in as_csv(stats) and "min-sante" not in as_csv(stats)


@pytest.mark.parametrize("daily", [True, False])
def test_the_table_per_centre(
    db_session: Session, clock: FrozenClock, world: World, scene: CentreScene, daily: bool
) -> None:
    db_session.flush()
    period, now = _period(clock), clock.now() + dt.timedelta(days=1)
    rows = by_centre(db_session, Actor.for_user(world.lead), period, now=now, daily=daily)
    found = {
        r.centre.slug: (r.incidents, r.open, r.acknowledged_on_time, r.ack_decided, r.urgent)
        for r in rows
    }
    assert [r.centre.slug for r in rows] == ["national", "finance", "health"]
    # a day later every acknowledgement is past due: decided
    assert found == {
        "national": (3, 3, 0, 3, 0),
        "finance": (3, 3, 0, 3, 0),
        "health": (3, 2, 2, 3, 1),
    }
    analyst = Actor.for_user(scene.finance_analyst)
    finance = by_centre(db_session, analyst, period, now=now, daily=daily)
    assert {r.centre.slug: r.incidents for r in finance} == {
        "national": 0,
        "finance": 3,
        "health": 0,
    }


# ---------------------------------------------------------------- pages and exports
def _count(html: str) -> str:
    found = re.search(r"Incidents received</dt>\s*<dd class=\"h4 mb-0\">([^<]+)</dd>", html)
    assert found, html[:2000]
    return found.group(1)


def test_a_finance_analysts_dashboard_is_their_centres(
    client: FlaskClient, scene: CentreScene
) -> None:
    sign_in(client, scene.finance_analyst)
    html = text(client.get("/dashboard?lang=en"))
    assert "Centre: Centre de veille finances" in html and _count(html) == "3"
    assert 'option value="finance" selected' in html
    assert "Per centre" not in html  # the table per centre is the national view's
    assert _count(text(client.get("/dashboard?lang=en&centre="))) == "3"
    assert _count(text(client.get("/dashboard?lang=en&centre=health"))) == "0"
    bad = client.get("/dashboard?lang=en&centre=energie")
    assert bad.status_code == 422 and "energie" in text(bad) and 'id="centre"' in text(bad)
    for query in ("", "&centre=health", "&centre="):
        body = client.get(f"/stats.json?from=2025-12-01&to=2026-02-28{query}").get_json()
        assert body["total"]["incidents"] == (0 if "health" in query else 3)
        assert {g["key"] for g in body["by_sector"]} <= {"finance"}
        csv_text = text(client.get(f"/stats.csv?from=2025-12-01&to=2026-02-28{query}"))
        assert "health" not in csv_text and "min-sante" not in csv_text


def test_the_national_dashboard_has_a_table_per_centre(
    client: FlaskClient, world: World, scene: CentreScene
) -> None:
    sign_in(client, world.analyst)
    html = text(client.get("/dashboard?lang=en"))
    assert "Per centre" in html and _count(html) == "9"
    table = html.split('class="table table-sm mb-0 vigie-per-centre"')[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 3 and "centre=health" in table
    health = text(client.get("/dashboard?lang=en&centre=health"))
    assert _count(health) == "3" and "Per centre" not in health
    assert "centre=health" in health.split("/stats.csv")[1][:120]
    body = client.get("/stats.json?from=2025-12-01&to=2026-02-28&centre=health").get_json()
    assert body["centre"] == "health" and body["total"]["incidents"] == 3
    whole = client.get("/stats.json?from=2025-12-01&to=2026-02-28").get_json()
    assert {g["key"]: g["incidents"] for g in whole["by_centre"]} == {
        "national": 3, "finance": 3, "health": 3,
    }  # fmt: skip
    assert client.get("/stats.json?from=2025-12-01&to=2026-02-28&centre=x!").status_code == 422


def test_the_arabic_dashboard_names_the_centres_in_arabic(
    client: FlaskClient, world: World, scene: CentreScene
) -> None:
    sign_in(client, world.lead)
    html = text(client.get("/dashboard?lang=ar"))
    assert "مركز اليقظة للصحة" in html and "مركز اليقظة للمالية" in html


def test_cert_stats_centre(
    fresh_database: TestDatabase, tmp_path: Path, clock: FrozenClock
) -> None:
    with transaction(make_session_factory(fresh_database.engine)) as session:
        centre_scene(session, clock, World(session, clock), per_centre=2)
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }
    runner = CliRunner()
    args = ["stats", "--from", "2025-12-01", "--to", "2026-02-28", "--format", "json"]
    whole = runner.invoke(cli, args, env=env, catch_exceptions=False)
    assert whole.exit_code == 0, whole.output
    assert json.loads(whole.output)["total"]["incidents"] == 6
    health = runner.invoke(cli, [*args, "--centre", "health"], env=env, catch_exceptions=False)
    body = json.loads(health.output)
    assert body["centre"] == "health" and body["total"]["incidents"] == 2
    assert [g["key"] for g in body["by_sector"]] == ["health"] and "by_centre" not in body
    bad = runner.invoke(cli, [*args, "--centre", "energie"], env=env)
    assert bad.exit_code == 1 and "centre: unknown centre 'energie'" in bad.output


@pytest.mark.parametrize("daily", [True, False])
def test_a_centre_analyst_also_counts_what_is_shared_with_them_or_theirs(
    db_session: Session, clock: FrozenClock, scene: CentreScene, daily: bool
) -> None:
    """Beyond their centre's rows of the aggregate: a health incident shared with the finance
    centre, and one assigned to the finance analyst (read live, from the shares and names)."""
    shared, assigned = scene.health_incidents[0], scene.health_incidents[1]
    db_session.add(
        IncidentShare(
            incident_id=shared.id, centre_id=scene.finance.id, mode=ShareMode.READ,
            shared_by_id=scene.finance_analyst.id, shared_at=clock.now(), reason="enquête",
        )
    )  # fmt: skip
    assigned.assignee_id = scene.finance_analyst.id
    db_session.flush()
    finance, now = Actor.for_user(scene.finance_analyst), clock.now() + dt.timedelta(days=1)
    board = dashboard(db_session, finance, _period(clock), now=now, daily=daily)
    assert board.overall.count == 5 and sum(b.total for b in board.over_time) == 5
    health = dashboard(
        db_session, finance, _period(clock), now=now, daily=daily, centre=scene.health.id
    )
    assert health.overall.count == 2  # the two it may see of the health centre, no more


def test_a_transfer_moves_the_aggregates_rows(
    db_session: Session, clock: FrozenClock, scene: CentreScene
) -> None:
    moved = scene.health_incidents[2]
    moved.centre_id = scene.finance.id  # what a transfer writes
    db_session.flush()
    assert differences(db_session, ZONE) == 0
    lead, now = Actor.for_user(scene.finance_analyst), clock.now() + dt.timedelta(days=1)
    board = dashboard(db_session, lead, _period(clock), now=now, daily=True)
    assert board.overall.count == 4
