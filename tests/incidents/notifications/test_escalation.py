"""Escalation of incidents of ``CERT_ESCALATION_PRIORITIES`` not acknowledged in time: the
health centre's leads at the acknowledgement due time, the national centre 30 minutes later
(``leads+0,national+30``), exactly once each, through the scheduler's job, the domain event
``incident.escalated``, a timeline line and urgent e-mails queued in the outbox; acknowledged in
time (or since) → nothing; TLP:RED reaches leads only; P3 and an old backlog are not escalated;
a bad ``CERT_ESCALATION_STEPS`` stops start-up naming it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from core.config import ConfigError, load_config
from core.events import events_of
from core.identity.authz import Actor
from core.outbox import OutboxMessage
from incidents.events import Escalated, IncidentEventName
from incidents.models import IncidentEvent, Priority
from incidents.notifications import jobs
from incidents.notifications.escalation import escalate
from incidents.notifications.models import EscalationMark
from incidents.notifications.models import NotificationKind as Kind
from incidents.rules.escalation_steps import EscalationStep, Step, parse_priorities, parse_steps
from incidents.settings import from_config
from incidents.workspace import workflow
from tests.incidents.notifications.centres_scene import SYSTEM, Centres, make_centres
from tests.incidents.notifications.scene import SETTINGS, commit_and_deliver, job_context, kinds
from tests.kit.config import env
from tests.kit.factories import SETTINGS as INTAKE
from tests.kit.factories import report

P1: dict[str, Any] = {"impact": "critical", "urgency": "critical"}
P3: dict[str, Any] = {"impact": "low", "urgency": "high"}
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def c(db_session: Session, clock: FrozenClock) -> Centres:
    return make_centres(db_session, clock)


def run(session: Session, clock: FrozenClock) -> dict[str, int]:
    return escalate(session, SYSTEM, clock=clock, settings=SETTINGS)


def escalated(session: Session, user_email: str, c: Centres) -> int:
    user = next(
        u
        for u in (c.health_lead, c.national_lead, c.national_duty, c.health_shift)
        if u.email == user_email
    )
    return kinds(session, user).count(Kind.ESCALATED)


def test_an_unacknowledged_p1_climbs_each_step_once_on_schedule(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    c: Centres,
) -> None:
    incident = report(db_session, clock, c.reporter, **P1)
    due = incident.ack_due_at
    assert due == incident.received_at + dt.timedelta(hours=1)  # a P1: acknowledge within 1 h
    commit_and_deliver(db_session, session_factory, clock)
    clock.set(due - MINUTE)
    assert run(db_session, clock) == {"leads": 0, "national": 0}
    clock.set(due)
    assert dict(jobs.escalate_unacknowledged(job_context(session_factory, clock))) == {
        "leads": 1,
        "national": 0,
    }  # the scheduler's job, in its own transaction
    db_session.expire_all()
    assert run(db_session, clock) == {"leads": 0, "national": 0}  # once
    commit_and_deliver(db_session, session_factory, clock)
    assert kinds(db_session, c.health_lead) == [Kind.NEW_INCIDENT, Kind.ESCALATED]
    assert escalated(db_session, c.national_lead.email, c) == 0
    assert escalated(db_session, c.health_shift.email, c) == 0  # already paged: not the step's
    assert kinds(db_session, c.finance_lead) == [] and kinds(db_session, c.finance_duty) == []
    clock.set(due + 29 * MINUTE)
    assert run(db_session, clock) == {"leads": 0, "national": 0}
    clock.set(due + 30 * MINUTE)
    assert run(db_session, clock) == {"leads": 0, "national": 1}
    assert run(db_session, clock) == {"leads": 0, "national": 0}
    clock.set(due + 3 * dt.timedelta(hours=1))
    assert run(db_session, clock) == {"leads": 0, "national": 0}  # still once
    commit_and_deliver(db_session, session_factory, clock)
    assert escalated(db_session, c.health_lead.email, c) == 1
    assert escalated(db_session, c.national_lead.email, c) == 1
    assert escalated(db_session, c.national_duty.email, c) == 1
    # the domain events, the marks and the timeline
    recorded = [
        e.payload
        for e in events_of(db_session, "incident", incident.reference)
        if e.name is IncidentEventName.ESCALATED
    ]
    assert [(p.step, p.centre_id, p.due_at) for p in recorded if isinstance(p, Escalated)] == [
        ("leads", c.health.id, due),
        ("national", c.national.id, due),
    ]
    marks = db_session.scalars(select(EscalationMark).order_by(EscalationMark.created_at))
    assert [(m.step, m.centre_id) for m in marks] == [
        ("leads", c.health.id),
        ("national", c.national.id),
    ]
    lines = db_session.scalars(
        select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "escalated"
        )
    )
    assert [(line.data["step"], line.data["centre"]) for line in lines] == [
        ("leads", "sante"),
        ("national", "national"),
    ]


def test_the_steps_e_mails_are_queued_in_the_outbox(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, **P1)
    commit_and_deliver(db_session, session_factory, clock)
    jobs.send_mail(job_context(session_factory, clock))  # the new-incident notices
    db_session.expire_all()
    before = db_session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())) or 0
    clock.set(incident.ack_due_at + 30 * MINUTE)  # both steps due in one scan
    assert run(db_session, clock) == {"leads": 1, "national": 1}
    commit_and_deliver(db_session, session_factory, clock)
    jobs.send_mail(job_context(session_factory, clock))
    db_session.expire_all()
    queued = db_session.scalars(select(OutboxMessage).where(OutboxMessage.id > before))
    assert sorted(m.to_addr for m in queued) == sorted(
        [c.health_lead.email, c.national_lead.email, c.national_duty.email]
    )


def test_acknowledged_before_the_step_is_not_escalated(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, **P1)
    workflow.change_status(
        db_session, Actor.for_user(c.health_shift), incident, "triaged", clock=clock,
        settings=INTAKE,
    )  # fmt: skip
    assert incident.acknowledged_at is not None
    clock.set(incident.ack_due_at + dt.timedelta(hours=2))
    assert run(db_session, clock) == {"leads": 0, "national": 0}
    assert db_session.scalars(select(EscalationMark)).all() == []


def test_acknowledged_after_the_step_but_before_delivery_tells_nobody(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, **P1)
    clock.set(incident.ack_due_at)
    assert run(db_session, clock)["leads"] == 1
    workflow.change_status(
        db_session, Actor.for_user(c.health_shift), incident, "triaged", clock=clock,
        settings=INTAKE,
    )  # fmt: skip
    commit_and_deliver(db_session, session_factory, clock)
    assert escalated(db_session, c.health_lead.email, c) == 0


def test_a_red_incident_escalates_to_leads_only(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, tlp="TLP:RED", **P1)
    clock.set(incident.ack_due_at + 30 * MINUTE)
    assert run(db_session, clock) == {"leads": 1, "national": 1}
    commit_and_deliver(db_session, session_factory, clock)
    assert escalated(db_session, c.health_lead.email, c) == 1
    assert escalated(db_session, c.national_lead.email, c) == 1
    assert kinds(db_session, c.national_duty) == []  # an analyst: TLP:RED is not theirs
    assert kinds(db_session, c.health_shift) == []


def test_other_priorities_and_an_old_backlog_are_not_escalated(
    db_session: Session, clock: FrozenClock, c: Centres
) -> None:
    p3 = report(db_session, clock, c.reporter, **P3)
    clock.set(p3.ack_due_at + MINUTE)
    assert run(db_session, clock) == {"leads": 0, "national": 0}  # a P3 past its due time
    old = report(db_session, clock, c.reporter, **P1)
    clock.set(old.ack_due_at + dt.timedelta(days=1, minutes=31))  # both steps over a day late
    assert run(db_session, clock) == {"leads": 0, "national": 0}
    clock.set(old.ack_due_at + dt.timedelta(days=1, minutes=29))  # (a scan seen earlier:)
    # the leads' step was due a day and 29 minutes ago (backlog), the national one a day less a
    # minute ago (still taken)
    assert run(db_session, clock) == {"leads": 0, "national": 1}


def test_a_new_due_time_escalates_again(
    db_session: Session, clock: FrozenClock, c: Centres
) -> None:
    incident = report(db_session, clock, c.reporter, impact="high", urgency="high")
    assert incident.priority == "P2"
    clock.set(incident.ack_due_at)
    assert run(db_session, clock)["leads"] == 1
    workflow.set_priority(
        db_session, Actor.for_user(c.health_lead), incident, "P1", "VIP", clock=clock,
        settings=INTAKE,
    )  # fmt: skip
    db_session.flush()
    clock.set(incident.ack_due_at)
    assert run(db_session, clock)["leads"] == 1


def test_steps_and_priorities_are_configurable(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, c: Centres
) -> None:
    settings = dataclasses.replace(
        SETTINGS,
        escalation_steps=(EscalationStep(Step.NATIONAL, dt.timedelta(minutes=5)),),
        escalation_priorities=frozenset({Priority.P3}),
    )
    p3 = report(db_session, clock, c.reporter, **P3)
    p1 = report(db_session, clock, c.reporter, **P1)
    clock.set(max(p3.ack_due_at, p1.ack_due_at) + 5 * MINUTE)
    assert escalate(db_session, SYSTEM, clock=clock, settings=settings) == {"national": 1}
    assert [m.incident_id for m in db_session.scalars(select(EscalationMark))] == [p3.id]


# ---------------------------------------------------------------- the settings
def test_the_steps_grammar() -> None:
    assert parse_steps("leads+0,national+30") == (
        EscalationStep(Step.LEADS, dt.timedelta(0)),
        EscalationStep(Step.NATIONAL, dt.timedelta(minutes=30)),
    )
    assert parse_steps(" National+15 ") == (
        EscalationStep(Step.NATIONAL, dt.timedelta(minutes=15)),
    )
    assert parse_steps("") == ()
    assert parse_priorities(" p1 , P2") == {"P1", "P2"}
    assert parse_priorities("") == frozenset()


BAD_STEPS = [
    ("leads", "invalid escalation step 'leads'"),
    ("leads+x", "invalid escalation step 'leads+x'"),
    ("boss+10", "invalid escalation step 'boss+10': the step is one of leads, national"),
    ("leads+٣", "invalid escalation step 'leads+٣'"),  # Arabic-Indic digit
    ("leads+0,,national+30", "invalid escalation steps"),
    ("national+30,leads+0", "invalid escalation steps 'national+30,leads+0': steps must be"),
    ("leads+0,leads+10", "escalation step 'leads' given twice"),
    ("leads+99999", "invalid escalation step 'leads+99999': at most 10080 minutes"),
]


@pytest.mark.parametrize(("value", "message"), BAD_STEPS)
def test_bad_steps_stop_start_up_naming_the_variable(
    tmp_path: Path, value: str, message: str
) -> None:
    config = load_config(environ=env(tmp_path, CERT_ESCALATION_STEPS=value))
    with pytest.raises(ConfigError) as err:
        from_config(config)
    assert str(err.value).startswith(f"CERT_ESCALATION_STEPS: {message}")
    with pytest.raises(ConfigError) as app_err:
        create_app(config)
    assert str(app_err.value).startswith("CERT_ESCALATION_STEPS: ") and "\n" not in str(
        app_err.value
    )


def test_bad_priorities_stop_start_up_naming_the_variable(tmp_path: Path) -> None:
    config = load_config(environ=env(tmp_path, CERT_ESCALATION_PRIORITIES="P1,P7"))
    with pytest.raises(ConfigError) as err:
        from_config(config)
    assert (
        str(err.value) == "CERT_ESCALATION_PRIORITIES: invalid priority 'P7': one of P1, P2, P3, P4"
    )
    good = from_config(load_config(environ=env(tmp_path, CERT_ESCALATION_STEPS="national+0")))
    assert good.escalation_steps == (EscalationStep(Step.NATIONAL, dt.timedelta(0)),)
