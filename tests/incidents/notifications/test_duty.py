"""Duty per vigilance centre: a new incident tells the staff on duty of ITS centre (a shift of
the rota covering the moment before the standing on-duty members; the shift entered in the
centre's time zone) and that centre's leads — never another centre's people; an incident of
``CERT_ESCALATION_PRIORITIES`` pages the staff on duty (urgent: e-mailed at once even to those
who chose the digest); a transfer tells the new centre's staff on duty, else its leads; the rota
page shows each centre's duty and sets standing duty (leads and admins, audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditEntry
from core.auth.centres import on_duty
from core.clock import FrozenClock
from core.events import events_of
from core.identity.authz import Actor
from core.identity.centres import Centre
from core.identity.models import User
from core.outbox import OutboxMessage
from incidents.centres.transfer import transfer
from incidents.events import IncidentEventName
from incidents.models import Incident
from incidents.notifications import duty, jobs, preferences, recipients
from incidents.notifications.models import NotificationKind as Kind
from tests.incidents.notifications.centres_scene import (
    SYSTEM,
    Centres,
    add_shift,
    local,
    make_centre,
    make_centres,
)
from tests.incidents.notifications.scene import commit_and_deliver, job_context, kinds
from tests.kit.factories import make_org, report
from tests.kit.web import csrf_token, logout, sign_in, text

P1: dict[str, Any] = {"impact": "critical", "urgency": "critical"}
P3: dict[str, Any] = {"impact": "low", "urgency": "high"}


@pytest.fixture
def c(db_session: Session, clock: FrozenClock) -> Centres:
    return make_centres(db_session, clock)


def everyone(c: Centres) -> list[User]:
    return [
        c.national_lead,
        c.national_duty,
        c.health_lead,
        c.health_standing,
        c.health_shift,
        c.finance_lead,
        c.finance_duty,
    ]


def told(session: Session, c: Centres) -> dict[str, list[Kind]]:
    """Who was told what, by e-mail address (the untold left out)."""
    return {u.email: kinds(session, u) for u in everyone(c) if kinds(session, u)}


def test_a_new_p1_pages_the_health_shift_and_tells_the_health_lead_only(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, **P1)
    assert (incident.priority, incident.centre_id) == ("P1", c.health.id)  # routed by sector
    commit_and_deliver(db_session, session_factory, clock)
    assert told(db_session, c) == {
        c.health_shift.email: [Kind.URGENT_INCIDENT],  # the shift covers 09:00 UTC (10:00 there)
        c.health_lead.email: [Kind.NEW_INCIDENT],
    }  # not the standing duty while a shift runs; nobody of finance or of the national centre


def test_before_the_shift_the_standing_duty_is_told_and_a_p3_does_not_page(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    day = clock.now().date()
    clock.set(local(day, 8) + dt.timedelta(minutes=30))  # 08:30 in Casablanca: 07:30 UTC
    assert [u.id for u in on_duty(db_session, c.health, clock.now())] == [c.health_standing.id]
    report(db_session, clock, c.reporter, **P1)
    report(db_session, clock, c.reporter, **P3)
    commit_and_deliver(db_session, session_factory, clock)
    assert told(db_session, c) == {
        c.health_standing.email: [Kind.URGENT_INCIDENT, Kind.NEW_INCIDENT],
        c.health_lead.email: [Kind.NEW_INCIDENT, Kind.NEW_INCIDENT],
    }


def test_a_centre_with_nobody_falls_back_to_the_national_centre(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    make_centre(db_session, clock, "energie", "energy")  # no member at all
    onee = make_org(db_session, clock, slug="onee", sector="energy")
    report(db_session, clock, onee, **P1)
    commit_and_deliver(db_session, session_factory, clock)
    assert told(db_session, c) == {
        c.national_duty.email: [Kind.URGENT_INCIDENT],
        c.national_lead.email: [Kind.NEW_INCIDENT],
    }


def test_a_red_incident_pages_nobody_who_may_not_see_it(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    report(db_session, clock, c.reporter, tlp="TLP:RED", **P1)
    commit_and_deliver(db_session, session_factory, clock)
    assert told(db_session, c) == {c.health_lead.email: [Kind.NEW_INCIDENT]}


def test_the_urgent_page_is_mailed_at_once_even_to_a_digest_reader(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    for user in (c.health_shift, c.health_lead):
        preferences.set_email_mode(db_session, Actor.for_user(user), user, "digest", clock=clock)
    clock.advance(minutes=1)
    report(db_session, clock, c.reporter, **P1)
    commit_and_deliver(db_session, session_factory, clock)
    before = db_session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
    counts = dict(jobs.send_mail(job_context(session_factory, clock)))
    assert counts["immediate"] == 1 and counts["digests"] == 0
    db_session.expire_all()
    queued = db_session.scalars(select(OutboxMessage).where(OutboxMessage.id > (before or 0)))
    addresses = [m.to_addr for m in queued]
    assert c.health_shift.email in addresses  # paged
    assert c.health_lead.email not in addresses  # the plain notice waits for the digest


def test_core_on_duty_and_the_rota_page_agree(
    db_session: Session, clock: FrozenClock, c: Centres
) -> None:
    lead = Actor.for_user(c.national_lead)
    day = clock.now().date()
    for at in (clock.now(), local(day, 8), local(day, 17), local(day, 16)):
        for rota in duty.centre_rotas(db_session, lead, at=at):
            expected = [u.id for u in on_duty(db_session, rota.centre, at)]
            assert sorted(u.id for u in rota.on_duty) == sorted(expected), (at, rota.centre)
    other = add_shift(db_session, clock, c.finance, c.health_shift, local(day, 9), local(day, 17))
    finance = next(
        r
        for r in duty.centre_rotas(db_session, lead, at=clock.now())
        if r.centre.id == c.finance.id
    )
    assert other.user_id not in {u.id for u in finance.on_duty}  # not a member of finance
    assert on_duty(db_session, c.finance, clock.now()) == [c.finance_duty]


# ---------------------------------------------------------------- transfers
def transferred(
    session: Session, clock: FrozenClock, incident: Incident, to_centre_id: int, actor: Actor
) -> None:
    """The transfer use case itself (incidents.centres.transfer): the move, its timeline line
    and the event ``incident.transferred``."""
    centre = session.get(Centre, to_centre_id)
    transfer(session, actor, incident, centre, "Compétence d'un autre centre", clock=clock)


def test_a_transfer_tells_the_new_centres_duty_else_its_leads(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, **P3)
    red = report(db_session, clock, c.reporter, tlp="TLP:RED", **P3)
    commit_and_deliver(db_session, session_factory, clock)
    health_lead = Actor.for_user(c.health_lead)
    transferred(db_session, clock, incident, c.finance.id, health_lead)
    transferred(db_session, clock, red, c.finance.id, health_lead)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, c.finance_duty) == [Kind.TRANSFERRED]  # the amber one only
    # the red one: nobody on duty may see it, so the finance lead is told
    assert kinds(db_session, c.finance_lead) == [Kind.TRANSFERRED]
    assert kinds(db_session, c.health_lead) == [Kind.NEW_INCIDENT, Kind.NEW_INCIDENT]  # acted
    assert kinds(db_session, c.national_duty) == []
    assert [e.name for e in events_of(db_session, "incident", incident.reference)][-1] == (
        IncidentEventName.TRANSFERRED
    )


def test_a_transfer_outrun_by_another_tells_only_the_last_centre(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, **P3)
    commit_and_deliver(db_session, session_factory, clock)
    transferred(db_session, clock, incident, c.finance.id, SYSTEM)
    transferred(db_session, clock, incident, c.national.id, SYSTEM)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, c.finance_duty) == []
    assert kinds(db_session, c.national_duty) == [Kind.TRANSFERRED]


# ---------------------------------------------------------------- the rota page
def test_the_rota_page_shows_each_centres_duty_and_sets_standing_duty(
    client: FlaskClient, db_session: Session, clock: FrozenClock, c: Centres
) -> None:
    db_session.commit()
    sign_in(client, c.health_shift)
    assert client.get("/notifications/rota").status_code == 403
    logout(client)
    sign_in(client, c.national_lead)
    page = text(client.get("/notifications/rota?centre=sante&lang=fr"))
    assert "Centre sante" in page and "Centre finances" in page
    assert c.health_shift.name in page and "/admin/centres/sante" in page
    assert "17:00" in page  # the shift's end, in the centre's time zone (16:00 UTC)
    token = csrf_token(page)
    url = f"/notifications/rota/finances/{c.finance_lead.id}"
    done = client.post(url, data={"csrf_token": token, "on_duty": "1"})
    assert done.status_code == 302 and done.location == "/notifications/rota?centre=finances"
    db_session.expire_all()
    standing = on_duty(db_session, c.finance, clock.now())
    assert {u.id for u in standing} == {c.finance_duty.id, c.finance_lead.id}
    [entry] = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "centre.duty",
            AuditEntry.object_id == str(c.finance.id),
        )
    )
    assert entry.after == {"user": c.finance_lead.email, "on_duty": True}
    outsider = f"/notifications/rota/finances/{c.health_shift.id}"  # not a member of finance
    assert client.post(outsider, data={"csrf_token": token, "on_duty": "1"}).status_code == 404
    nowhere = f"/notifications/rota/nowhere/{c.finance_lead.id}"
    assert client.post(nowhere, data={"csrf_token": token, "on_duty": "1"}).status_code == 404
    ar = text(client.get("/notifications/rota?centre=sante&lang=ar"))
    assert "مركز sante" in ar and 'dir="rtl"' in ar


# ---------------------------------------------------------------- cost
def test_recipients_actors_are_built_in_one_query(
    db_session: Session, connection: Connection, clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, **P1)
    people = everyone(c)
    db_session.flush()
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        kept = recipients.told(people, incident, actor_id=None)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert len(statements) <= 2, statements  # the analysts' centres at once (+ the shares)
    assert {u.id for u in kept} == {
        c.national_lead.id,  # every lead and the national members see every centre
        c.national_duty.id,
        c.health_lead.id,
        c.health_standing.id,
        c.health_shift.id,
        c.finance_lead.id,
    }  # not the finance analyst: another centre's incident
