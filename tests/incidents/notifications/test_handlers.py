"""The notification handlers, run by the real dispatcher (``deliver_events`` with the slice's
handlers): who is told of what, each event at most once, and never anyone who may not see the
incident — the attacker's tests: a TLP:RED incident's events reach no analyst who is not its
assignee or a participant (on duty or mentioned), and a reporter never gets a CERT notification.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.notifications.answers import answers_waiting
from incidents.notifications.models import Notification, NotificationKind
from incidents.workspace import conversation, workflow
from tests.incidents.notifications.scene import (
    Cert,
    commit_and_deliver,
    deliver,
    kinds,
    make_cert,
    notifications,
)
from tests.kit.factories import SETTINGS, report

Kind = NotificationKind


@pytest.fixture
def cert(db_session: Session, clock: FrozenClock) -> Cert:
    return make_cert(db_session, clock)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Notification)) or 0


def test_a_new_incident_reaches_the_leads_and_the_staff_on_duty_once(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    counts = commit_and_deliver(db_session, session_factory, clock)
    assert counts["delivered"] == counts["dispatched"] > 0
    assert kinds(db_session, cert.lead) == [Kind.NEW_INCIDENT]
    assert kinds(db_session, cert.on_duty) == [Kind.URGENT_INCIDENT]  # a P2 pages the duty
    assert kinds(db_session, cert.analyst) == []  # neither lead nor on duty
    assert kinds(db_session, cert.reporter) == []
    [told] = notifications(db_session, cert.lead)
    assert (told.incident_id, told.actor_id, told.read_at) == (incident.id, cert.reporter.id, None)
    assert told.mail_pending  # the default preference: e-mail immediately
    total = count(db_session)
    assert deliver(session_factory, clock)["delivered"] == 0  # at most once per event
    assert count(db_session) == total


def test_assignment_reaches_the_new_assignee_but_not_who_took_it_themselves(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    workflow.assign(db_session, Actor.for_user(cert.lead), incident, cert.analyst, clock=clock)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.analyst) == [Kind.ASSIGNED]
    analyst = Actor.for_user(cert.analyst2)
    workflow.assign(db_session, analyst, incident, cert.analyst2, clock=clock)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.analyst2) == []


def test_a_stale_assignment_is_not_announced(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    lead = Actor.for_user(cert.lead)
    workflow.assign(db_session, lead, incident, cert.analyst, clock=clock)
    workflow.assign(db_session, lead, incident, cert.analyst2, clock=clock)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.analyst) == []  # taken away before delivery
    assert kinds(db_session, cert.analyst2) == [Kind.ASSIGNED]


def test_a_reporters_answer_reaches_the_assignee_and_waits_for_a_reply(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    analyst = Actor.for_user(cert.analyst)
    workflow.assign(db_session, analyst, incident, cert.analyst, clock=clock)
    answer = conversation.reporter_answer(
        db_session, Actor.for_user(cert.reporter), incident, "Logs attached", clock=clock
    )
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.analyst) == [Kind.REPORTER_ANSWERED]
    assert kinds(db_session, cert.lead) == [Kind.NEW_INCIDENT]  # the owner is told, not the scope
    assert answers_waiting(db_session, [incident.id]) == {incident.id: answer.at}
    conversation.reply_to_reporter(
        db_session, analyst, incident, "Thank you", clock=clock, settings=SETTINGS
    )
    commit_and_deliver(db_session, session_factory, clock)
    assert answers_waiting(db_session, [incident.id]) == {}


def test_an_answer_on_an_unassigned_incident_reaches_its_scope(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    conversation.reporter_answer(
        db_session, Actor.for_user(cert.reporter), incident, "More details", clock=clock
    )
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.lead) == [Kind.NEW_INCIDENT, Kind.REPORTER_ANSWERED]
    assert kinds(db_session, cert.on_duty) == [Kind.URGENT_INCIDENT, Kind.REPORTER_ANSWERED]


def test_an_answer_waiting_is_cleared_when_the_incident_is_handled(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    reporter, analyst = Actor.for_user(cert.reporter), Actor.for_user(cert.analyst)
    conversation.reporter_answer(db_session, reporter, incident, "Still there", clock=clock)
    workflow.change_status(db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS)
    commit_and_deliver(db_session, session_factory, clock)
    assert incident.id in answers_waiting(db_session, [incident.id])  # still open
    workflow.change_status(
        db_session, analyst, incident, "rejected", clock=clock, settings=SETTINGS,
        reason="Not a security incident",
    )  # fmt: skip
    commit_and_deliver(db_session, session_factory, clock)
    assert answers_waiting(db_session, [incident.id]) == {}


def test_mentions_reach_the_cert_users_named(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    body = (
        "<p>@analyst2 and @Nadia.Alaoui, look; not lead@cert.ma nor @nobody; "
        "and @amal (the reporter) must not be told.</p>"
    )
    conversation.add_comment(db_session, Actor.for_user(cert.analyst), incident, body, clock=clock)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.analyst2) == [Kind.MENTIONED]
    assert kinds(db_session, cert.on_duty) == [Kind.URGENT_INCIDENT, Kind.MENTIONED]
    assert kinds(db_session, cert.lead) == [Kind.NEW_INCIDENT]  # an address is not a mention
    assert kinds(db_session, cert.reporter) == []  # amal@interieur.gov.ma: not CERT staff
    assert kinds(db_session, cert.analyst) == []  # the author


# ------------------------------------------------------------------ the attacker's tests
def test_a_red_incident_notifies_no_analyst_who_may_not_see_it(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter, tlp="TLP:RED")
    lead = Actor.for_user(cert.lead)
    workflow.assign(db_session, lead, incident, cert.analyst, clock=clock)
    conversation.reporter_answer(
        db_session, Actor.for_user(cert.reporter), incident, "Answer", clock=clock
    )
    conversation.add_comment(
        db_session, lead, incident, "@analyst2 @n.alaoui @analyst please look", clock=clock
    )
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.on_duty) == []  # on duty, mentioned, but not named on it
    assert kinds(db_session, cert.analyst2) == []  # mentioned, not named on it
    assert kinds(db_session, cert.analyst) == [
        Kind.ASSIGNED,
        Kind.REPORTER_ANSWERED,
        Kind.MENTIONED,
    ]
    assert kinds(db_session, cert.lead) == [Kind.NEW_INCIDENT]
    workflow.add_participant(db_session, lead, incident, cert.analyst2, clock=clock)
    conversation.add_comment(db_session, lead, incident, "@analyst2 now you", clock=clock)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.analyst2) == [Kind.MENTIONED]  # named: now told


def test_a_reporter_never_gets_a_cert_notification(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    lead = Actor.for_user(cert.lead)
    conversation.add_comment(db_session, lead, incident, "@amal @karim", clock=clock)
    conversation.reporter_answer(
        db_session, Actor.for_user(cert.reporter), incident, "Answer", clock=clock
    )
    commit_and_deliver(db_session, session_factory, clock)
    for reporter in (cert.reporter, cert.w.other_reporter):
        assert kinds(db_session, reporter) == []


def test_deactivated_staff_are_not_told(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    cert.on_duty.is_active = False
    report(db_session, clock, cert.reporter)
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, cert.on_duty) == []
