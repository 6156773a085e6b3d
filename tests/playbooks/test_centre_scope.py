"""Triggers and schedules scoped to a vigilance centre, on both databases: a trigger with the
``centres`` condition starts its playbook for the incidents of those centres only (routed by the
real intake: a health ministry's incident lands in the health centre, a finance one does not), a
schedule with a ``centre`` runs for exactly the organisations of that centre's constituency as it
is when it fires; the services, the API, the pages and ``cert playbooks`` take them, refusing an
unknown centre or a centre with organisations under the field named."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.db import make_session_factory
from core.identity.authz import Actor
from core.identity.centres import national_centre
from core.uow import transaction
from playbooks.automation import services as svc
from playbooks.automation.firing import fire_due_schedules, run_schedule_now
from playbooks.models import PlaybookRun, PlaybookSchedule
from playbooks.rules.triggering import matches, problems
from playbooks.settings import PlaybookSettings
from tests.dbs import TestDatabase
from tests.kit.api import bearer, envelope
from tests.kit.constituency import Constituents, constituents
from tests.kit.factories import make_org, report
from tests.kit.web import csrf_token, text
from tests.kit.world import World
from tests.playbooks.automation_kit import check_playbook, refused, response_playbook
from tests.playbooks.test_triggering import FACTS
from tests.playbooks.test_triggers import deliver, started

load_commands()
SETTINGS = PlaybookSettings()


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, world: World) -> Constituents:
    return constituents(db_session, clock, world)


def _lead(world: World) -> Actor:
    return Actor.for_user(world.lead)


@pytest.mark.parametrize(
    ("conditions", "centre", "expected"),
    [
        ({"centres": ["sante"]}, "sante", True),
        ({"centres": ["finances", " SANTE "]}, "sante", True),
        ({"centres": ["finances"]}, "sante", False),
        ({"centres": ["sante"]}, None, False),
        ({"centres": []}, "sante", False),
        ({"centres": "sante"}, "sante", False),  # not a list: never holds
    ],
)
def test_the_centres_condition(conditions: dict[str, object], centre: str | None,
                               expected: bool) -> None:  # fmt: skip
    assert matches(conditions, replace(FACTS, centre=centre)) is expected


def test_a_centres_condition_that_cannot_be_read_is_named() -> None:
    assert problems({"centres": ["sante"]}) == {}
    assert "$.centres" in problems({"centres": [3]})


def test_a_trigger_scoped_to_the_health_centre_fires_for_health_incidents_only(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    scene: Constituents,
    world: World,
) -> None:
    playbook = response_playbook(db_session, clock)
    health = svc.add_trigger(db_session, _lead(world), playbook.cacao_id,
                             {"event": "created", "conditions": {"centres": ["sante"]}},
                             clock=clock)  # fmt: skip
    finance = report(db_session, clock, scene.finances)
    assert finance.centre_id == scene.finance.id
    deliver(db_session, session_factory, clock)
    assert started(db_session) == []
    sick = report(db_session, clock, scene.sante)
    assert sick.centre_id == scene.health.id
    deliver(db_session, session_factory, clock)
    assert started(db_session) == [(health.id, sick.id)]
    national = response_playbook(db_session, clock, name="National response")
    everyone = svc.add_trigger(db_session, _lead(world), national.cacao_id,
                               {"event": "created", "conditions": {"centres": ["national"]}},
                               clock=clock)  # fmt: skip
    home = report(db_session, clock, scene.interieur)
    report(db_session, clock, scene.douane)
    deliver(db_session, session_factory, clock)
    assert started(db_session) == [(health.id, sick.id), (everyone.id, home.id)]


def test_trigger_centres_are_checked_and_stored_in_lower_case(
    db_session: Session, clock: FrozenClock, scene: Constituents, world: World
) -> None:
    playbook = response_playbook(db_session, clock)
    fields = refused(svc.add_trigger, db_session, _lead(world), playbook.cacao_id,
                     {"event": "created", "conditions": {"centres": ["mars", "sante"]}},
                     clock=clock)  # fmt: skip
    assert list(fields) == ["conditions.centres"] and "mars" in str(fields["conditions.centres"])
    trigger = svc.add_trigger(db_session, _lead(world), playbook.cacao_id,
                              {"event": "created", "conditions": {"centres": [" Sante", "sante",
                                                                              "FINANCES"]}},
                              clock=clock)  # fmt: skip
    assert trigger.conditions == {"centres": ["finances", "sante"]}


def _due(schedule: PlaybookSchedule, clock: FrozenClock) -> None:
    schedule.next_fire_at = clock.now() - dt.timedelta(minutes=1)


def _targets(session: Session, schedule: PlaybookSchedule) -> list[int]:
    query = select(PlaybookRun.organisation_id).where(PlaybookRun.schedule_id == schedule.id)
    return sorted(i for i in session.scalars(query) if i is not None)


def test_a_schedule_scoped_to_a_centre_runs_for_exactly_its_constituency(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    scene: Constituents,
    world: World,
) -> None:
    playbook = check_playbook(db_session, clock)
    lead = _lead(world)
    fields = refused(svc.add_schedule, db_session, lead, playbook.cacao_id,
                     {"cron": "0 7 * * *", "centre": "mars"}, clock=clock,
                     settings=SETTINGS)  # fmt: skip
    assert list(fields) == ["centre"]
    both = {"cron": "0 7 * * *", "centre": "sante", "organisation_ids": [scene.interieur.id]}
    fields = refused(svc.add_schedule, db_session, lead, playbook.cacao_id, both, clock=clock,
                     settings=SETTINGS)  # fmt: skip
    assert list(fields) == ["centre"]
    assert db_session.scalar(select(PlaybookSchedule)) is None
    schedule = svc.add_schedule(db_session, lead, playbook.cacao_id,
                                {"cron": "0 7 * * *", "centre": "SANTE"}, clock=clock,
                                settings=SETTINGS)  # fmt: skip
    assert schedule.centre_id == scene.health.id and schedule.organisation_ids is None
    assert svc.schedule_out(db_session, schedule).centre == "sante"
    _due(schedule, clock)
    db_session.commit()
    counts = fire_due_schedules(session_factory, clock=clock, settings=SETTINGS)
    assert counts["runs"] == 4
    wanted = [scene.sante.id, scene.chu.id, scene.cnss.id, scene.agadir.id]
    assert _targets(db_session, schedule) == sorted(wanted)
    # the constituency as it is when the schedule fires: a new health organisation is in it
    clinic = make_org(db_session, clock, slug="chu-fes", sector="health")
    runs = run_schedule_now(db_session, lead, schedule, clock=clock, settings=SETTINGS)
    assert sorted(r.organisation_id or 0 for r in runs) == sorted([*wanted, clinic.id])
    # back to chosen organisations: the centre goes
    svc.update_schedule(db_session, lead, schedule,
                        {"cron": "0 7 * * *", "organisation_ids": [scene.douane.id]},
                        clock=clock, settings=SETTINGS)  # fmt: skip
    assert schedule.centre_id is None and schedule.organisation_ids == [scene.douane.id]
    national = svc.add_schedule(db_session, lead, playbook.cacao_id,
                                {"cron": "0 8 * * *", "centre": "national"}, clock=clock,
                                settings=SETTINGS)  # fmt: skip
    runs = run_schedule_now(db_session, lead, national, clock=clock, settings=SETTINGS)
    assert scene.cert.id not in {r.organisation_id for r in runs}
    assert scene.interieur.id in {r.organisation_id for r in runs}
    assert national.centre_id == national_centre(db_session).id


def test_the_api_takes_centres_on_triggers_and_schedules(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    scene: Constituents,
    lead_token: str,
) -> None:
    response = response_playbook(db_session, clock)
    url = f"/api/v1/playbooks/{response.id}/triggers"
    bad = {"event": "created", "conditions": {"centres": ["mars"]}}
    error = envelope(client.post(url, json=bad, headers=bearer(lead_token)), 422)
    assert set(error["fields"]) == {"conditions.centres"}
    made = client.post(url, json={"event": "created", "conditions": {"centres": ["sante"]}},
                       headers=bearer(lead_token))  # fmt: skip
    assert made.status_code == 201 and made.get_json()["conditions"] == {"centres": ["sante"]}

    check = check_playbook(db_session, clock)
    url = f"/api/v1/playbooks/{check.id}/schedules"
    both = {"cron": "0 7 * * *", "centre": "sante", "organisation_ids": [scene.interieur.id]}
    error = envelope(client.post(url, json=both, headers=bearer(lead_token)), 422)
    assert set(error["fields"]) == {"centre"}
    error = envelope(client.post(url, json={"cron": "0 7 * * *", "centre": "mars"},
                                 headers=bearer(lead_token)), 422)  # fmt: skip
    assert set(error["fields"]) == {"centre"}
    made = client.post(url, json={"cron": "0 7 * * *", "centre": "finances"},
                       headers=bearer(lead_token))  # fmt: skip
    assert made.status_code == 201, made.get_json()
    schedule = made.get_json()
    assert schedule["centre"] == "finances" and schedule["organisation_ids"] is None
    one = f"/api/v1/playbooks/schedules/{schedule['id']}"
    patched = client.patch(one, json={"enabled": False}, headers=bearer(lead_token)).get_json()
    assert patched["centre"] == "finances" and patched["enabled"] is False
    patched = client.patch(one, json={"organisation_ids": [scene.douane.id]},
                           headers=bearer(lead_token)).get_json()  # fmt: skip
    assert patched["centre"] is None and patched["organisation_ids"] == [scene.douane.id]
    patched = client.patch(one, json={"centre": "sante"}, headers=bearer(lead_token)).get_json()
    assert patched["centre"] == "sante" and patched["organisation_ids"] is None
    both = {"centre": "sante", "organisation_ids": [scene.douane.id]}
    error = envelope(client.patch(one, json=both, headers=bearer(lead_token)), 422)
    assert set(error["fields"]) == {"centre"}


def test_the_pages_take_centres_and_name_the_field_refused(
    client: FlaskClient, db_session: Session, clock: FrozenClock, scene: Constituents,
    world: World,
) -> None:  # fmt: skip
    response, check = response_playbook(db_session, clock), check_playbook(db_session, clock)
    world.sign_in(client, world.lead)
    form = text(client.get(f"/playbooks/{response.id}/triggers/new?lang=fr"))
    assert "Centre de veille — Santé" in form
    token = csrf_token(form)
    added = client.post(f"/playbooks/{response.id}/triggers/new",
                        data={"csrf_token": token, "event": "created", "centres": "sante",
                              "enabled": "y"})  # fmt: skip
    assert added.status_code == 302
    [trigger] = svc.list_triggers(db_session)
    assert trigger.conditions == {"centres": ["sante"]}
    overview = text(client.get("/playbooks/automation?lang=fr"))
    assert "Centre de veille — Santé" in overview
    url = f"/playbooks/{check.id}/schedules/new"
    both = client.post(
        url,
        data={
            "csrf_token": token,
            "cron": "0 7 * * *",
            "centre": "sante",
            "organisation_ids": str(scene.interieur.id),
            "enabled": "y",
        },
    )
    assert both.status_code == 422
    assert re.search(r'<select class="form-select is-invalid" dir="auto" id="centre"', text(both))
    assert svc.list_schedules(db_session) == []
    made = client.post(url, data={"csrf_token": token, "cron": "0 7 * * *", "centre": "sante",
                                  "enabled": "y"})  # fmt: skip
    assert made.status_code == 302
    [schedule] = svc.list_schedules(db_session)
    assert schedule.centre_id == scene.health.id
    edit = text(client.get(f"/playbooks/schedules/{schedule.id}/edit?lang=fr"))
    assert '<option selected value="sante">' in edit
    overview = text(client.get("/playbooks/automation?lang=fr"))
    assert overview.count("Centre de veille — Santé") >= 2
    arabic = text(client.get("/playbooks/automation?lang=ar"))
    assert 'dir="rtl"' in arabic and arabic.count("مركز اليقظة — الصحة") >= 2


def test_cert_playbooks_take_centres(fresh_database: TestDatabase, tmp_path: Path) -> None:
    factory = make_session_factory(fresh_database.engine)
    clock = FrozenClock()
    with transaction(factory) as session:
        constituents(session, clock, World(session, clock))
        after, before = response_playbook(session, clock), check_playbook(session, clock)
        after_id, before_id = after.id, before.id
    env = {"CERT_DATABASE_URL": fresh_database.url, "CERT_SECRET_KEY": "s" * 40,
           "CERT_INSTANCE_DIR": str(tmp_path / "instance")}  # fmt: skip

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["playbooks", *args], env=env)
        return result.exit_code, result.output

    code, out = run("trigger-add", str(after_id), "--event", "created", "--centre", "mars")
    assert code == 1 and "conditions.centres" in out
    code, out = run("trigger-add", str(after_id), "--event", "created", "--centre", "sante")
    assert code == 0, out
    [trigger] = json.loads(run("triggers", "--json")[1])
    assert trigger["conditions"] == {"centres": ["sante"]}
    code, out = run("schedule-add", str(before_id), "--cron", "0 7 * * *", "--centre", "mars")
    assert code == 1 and "centre" in out
    code, out = run("schedule-add", str(before_id), "--cron", "0 7 * * *", "--centre", "sante")
    assert code == 0, out
    [schedule] = json.loads(run("schedules", "--json")[1])
    assert schedule["centre"] == "sante" and "centre sante" in run("schedules")[1]
    assert run("schedule-set", str(schedule["id"]), "--organisation", "douane")[0] == 0
    [schedule] = json.loads(run("schedules", "--json")[1])
    assert schedule["centre"] is None and len(schedule["organisation_ids"]) == 1
    assert run("schedule-set", str(schedule["id"]), "--centre", "finances")[0] == 0
    [schedule] = json.loads(run("schedules", "--json")[1])
    assert schedule["centre"] == "finances" and schedule["organisation_ids"] is None
