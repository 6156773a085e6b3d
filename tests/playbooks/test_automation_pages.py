"""The triggers' and schedules' pages on both databases: staff read, leads change, reporters
are refused; CSRF is required; a refused form shows each reason under its field in French and
Arabic and writes nothing; enable, disable, delete and edit act and say so."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import User
from playbooks.automation import services as svc
from playbooks.models import PlaybookSchedule, PlaybookTrigger
from playbooks.settings import PlaybookSettings
from tests.kit.web import csrf_token, sign_in, text
from tests.kit.world import World
from tests.playbooks.automation_kit import check_playbook, response_playbook


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_roles_read_and_change(
    app: Flask,
    db_session: Session,
    clock: FrozenClock,
    reporter: User,
    analyst: User,
    lead: User,
) -> None:
    playbook = response_playbook(db_session, clock)
    trigger = svc.add_trigger(
        db_session,
        Actor.for_user(lead),
        playbook.cacao_id,
        {"event": "created", "conditions": {"categories": ["fraud"]}},
        clock=clock,
    )
    assert sign_in(app.test_client(), reporter).get("/playbooks/automation").status_code == 403
    client = sign_in(app.test_client(), analyst)
    page = client.get("/playbooks/automation?lang=en")
    assert page.status_code == 200
    body = text(page)
    assert "Ransomware response" in body and "When an incident is reported" in body
    assert "Fraud" in body and f"/playbooks/triggers/{trigger.id}/edit" not in body
    assert client.get(f"/playbooks/triggers/{trigger.id}/edit").status_code == 403
    token = csrf_token(text(client.get("/account")))
    refused = client.post(f"/playbooks/triggers/{trigger.id}/disable", data={"csrf_token": token})
    assert refused.status_code == 403
    assert db_session.get(PlaybookTrigger, trigger.id).enabled  # type: ignore[union-attr]


def test_lead_adds_a_trigger_errors_in_french_and_arabic(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lead: User
) -> None:
    playbook = response_playbook(db_session, clock)
    sign_in(client, lead)
    url = f"/playbooks/{playbook.id}/triggers/new"
    form = text(client.get(url + "?lang=fr"))
    assert "Classes RSIT" in form and "Code malveillant" in form and "Hameçonnage" in form
    token = csrf_token(form)
    bad = {
        "csrf_token": token,
        "event": "created",
        "categories": "fraud",
        "types": "ddos",
        "statuses": "closed",
        "enabled": "y",
    }
    answer = client.post(url, data=bad)
    assert answer.status_code == 422
    body = text(answer)
    assert "hors des classes choisies (fraud)" in body
    assert "seulement pour" in body or "ne s'appliquent qu'à l'événement" in body
    assert "Le déclencheur n'a pas été enregistré" in body
    assert _count(db_session, PlaybookTrigger) == 0
    client.get(url + "?lang=ar")
    arabic = text(client.post(url, data=bad))
    assert "خارج الأصناف المختارة" in arabic and 'dir="rtl"' in arabic
    assert (
        client.post(url, data={k: v for k, v in bad.items() if k != "csrf_token"}).status_code
        == 400
    )

    good = {
        "csrf_token": token,
        "event": "classified",
        "categories": ["fraud", "malicious-code"],
        "types": "phishing",
        "min_priority": "P2",
        "tlp": ["TLP:RED", "TLP:AMBER"],
        "enabled": "y",
    }
    done = client.post(url, data=good)
    assert done.status_code == 302, text(done)
    [trigger] = db_session.scalars(select(PlaybookTrigger))
    assert trigger.conditions == {
        "categories": ["fraud", "malicious-code"],
        "types": ["phishing"],
        "min_priority": "P2",
        "tlp": ["TLP:AMBER", "TLP:RED"],
    }
    edit = f"/playbooks/triggers/{trigger.id}/edit"
    assert 'value="phishing" checked' in text(client.get(edit))
    client.post(edit, data={"csrf_token": token, "event": "status", "statuses": "resolved"})
    db_session.expire_all()
    assert (trigger.event.value, trigger.conditions, trigger.enabled) == (
        "status",
        {"statuses": ["resolved"]},
        False,
    )
    enabled = client.post(f"/playbooks/triggers/{trigger.id}/enable", data={"csrf_token": token})
    assert enabled.status_code == 302
    db_session.expire_all()
    assert trigger.enabled
    client.post(f"/playbooks/triggers/{trigger.id}/delete", data={"csrf_token": token})
    assert _count(db_session, PlaybookTrigger) == 0
    assert "حُذف المشغّل" in text(client.get("/playbooks/automation"))  # flashed in Arabic


def test_lead_schedules_and_edits_the_slot(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lead: User
) -> None:
    clock.set(dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC))
    before, after = check_playbook(db_session, clock), response_playbook(db_session, clock)
    sign_in(client, lead)
    form = text(client.get(f"/playbooks/{before.id}/schedules/new?lang=fr"))
    assert 'value="Africa/Casablanca"' in form
    token = csrf_token(form)
    refused = client.post(
        f"/playbooks/{before.id}/schedules/new",
        data={"csrf_token": token, "cron": "0 7 * *", "timezone": "Mars/Base"},
    )
    assert refused.status_code == 422
    assert "une expression cron a cinq champs" in text(refused)
    assert "fuseau horaire &#39;Mars/Base&#39; inconnu" in text(refused)
    wrong = client.post(
        f"/playbooks/{after.id}/schedules/new", data={"csrf_token": token, "cron": "0 7 * * *"}
    )
    assert wrong.status_code == 422 and "donnez-lui plutôt un déclencheur" in text(wrong)
    assert _count(db_session, PlaybookSchedule) == 0

    added = client.post(
        f"/playbooks/{before.id}/schedules/new",
        data={"csrf_token": token, "cron": "0 7 * * *", "timezone": "", "enabled": "y"},
    )
    assert added.status_code == 302
    [schedule] = db_session.scalars(select(PlaybookSchedule))
    assert schedule.timezone == PlaybookSettings().timezone
    assert schedule.next_fire_at == dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.UTC)
    overview = text(client.get("/playbooks/automation?lang=fr"))
    assert "chaque jour à 07:00" in overview and "Toutes les organisations" in overview
    client.post(
        f"/playbooks/schedules/{schedule.id}/edit",
        data={"csrf_token": token, "cron": "30 20 * * 1-5", "timezone": "UTC", "enabled": "y"},
    )
    db_session.expire_all()
    assert schedule.next_fire_at == dt.datetime(2026, 12, 4, 20, 30, tzinfo=dt.UTC)  # a Friday
    assert "du lundi au vendredi à 20:30" in text(client.get("/playbooks/automation?lang=fr"))
    client.post(f"/playbooks/schedules/{schedule.id}/disable", data={"csrf_token": token})
    db_session.expire_all()
    assert not schedule.enabled and schedule.next_fire_at is None


def test_a_lead_runs_a_schedule_now_for_each_of_its_organisations(
    app: Flask, db_session: Session, clock: FrozenClock, analyst: User, lead: User, world: World
) -> None:
    """ "Run now" on the overview (the exposure check on demand): one run per organisation of
    the schedule, started by the lead; an analyst sees no button and is refused."""
    from playbooks.models import PlaybookRun, RunOrigin  # noqa: PLC0415

    playbook = check_playbook(db_session, clock)
    schedule = svc.add_schedule(
        db_session, Actor.for_user(lead), playbook.cacao_id,
        {"cron": "0 7 * * *", "organisation_ids": [world.interieur.id, world.sante.id]},
        clock=clock, settings=PlaybookSettings(),
    )  # fmt: skip
    reader = sign_in(app.test_client(), analyst)
    token = csrf_token(text(reader.get("/account")))
    assert f"/playbooks/schedules/{schedule.id}/run" not in text(
        reader.get("/playbooks/automation")
    )
    assert reader.post(f"/playbooks/schedules/{schedule.id}/run",
                       data={"csrf_token": token}).status_code == 403  # fmt: skip
    client = sign_in(app.test_client(), lead)
    page = text(client.get("/playbooks/automation?lang=fr"))
    assert f"/playbooks/schedules/{schedule.id}/run" in page and "Exécuter maintenant" in page
    done = client.post(f"/playbooks/schedules/{schedule.id}/run",
                       data={"csrf_token": csrf_token(page)}, follow_redirects=True)  # fmt: skip
    assert done.status_code == 200 and "2 exécutions lancées" in text(done)
    runs = db_session.scalars(select(PlaybookRun)).all()
    assert {(r.organisation_id, r.origin, r.started_by_id) for r in runs} == {
        (world.interieur.id, RunOrigin.MANUAL, lead.id),
        (world.sante.id, RunOrigin.MANUAL, lead.id),
    }
    assert _count(db_session, PlaybookRun) == 2
