"""The SLA watch: each due date not yet met is announced once when due soon and once when
breached (``incident.sla_due_soon`` / ``incident.sla_breached``), to the assignee — or, while
nobody is assigned, to the leads and the staff on duty; a new due date is announced again; old
breaches and met due dates are not; the scan reads its index ranges."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.events import events_of
from core.identity.authz import Actor
from incidents.events import IncidentEventName, SlaAlert, SlaDeadline
from incidents.models import Incident
from incidents.notifications.models import NotificationKind, SlaState
from incidents.notifications.sla_watch import scan, state_of
from incidents.workspace import workflow
from tests.incidents.notifications.scene import (
    SYSTEM,
    Cert,
    commit_and_deliver,
    make_cert,
    notifications,
)
from tests.kit.factories import SETTINGS, report

WINDOW = dt.timedelta(minutes=60)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def cert(db_session: Session, clock: FrozenClock) -> Cert:
    return make_cert(db_session, clock)


def watch(session: Session, clock: FrozenClock) -> dict[str, int]:
    return scan(session, SYSTEM, clock=clock, window=WINDOW)


def alerts(session: Session, incident: Incident) -> list[tuple[str, SlaDeadline]]:
    return [
        (event.name.value, event.payload.deadline)
        for event in events_of(session, "incident", incident.reference)
        if isinstance(event.payload, SlaAlert)
    ]


def test_due_soon_is_a_quarter_of_the_time_given_at_most_the_window() -> None:
    received = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    one_hour = received + HOUR  # a P1 acknowledgement: due soon 15 minutes before
    assert state_of(received, one_hour, one_hour - dt.timedelta(minutes=16), WINDOW) is None
    assert state_of(received, one_hour, one_hour - dt.timedelta(minutes=15), WINDOW) == (
        SlaState.DUE_SOON
    )
    three_days = received + dt.timedelta(days=3)  # capped by the window: an hour before
    assert state_of(received, three_days, three_days - 2 * HOUR, WINDOW) is None
    assert state_of(received, three_days, three_days - HOUR, WINDOW) == SlaState.DUE_SOON
    assert state_of(received, three_days, three_days, WINDOW) == SlaState.DUE_SOON
    assert state_of(received, three_days, three_days + dt.timedelta(seconds=1), WINDOW) == (
        SlaState.BREACHED
    )


def test_each_state_of_each_due_date_is_announced_once(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)  # P2: acknowledge within 4 h
    assert incident.ack_due_at == incident.received_at + 4 * HOUR
    clock.set(incident.ack_due_at - 2 * HOUR)
    assert watch(db_session, clock) == {"due_soon": 0, "breached": 0}
    clock.set(incident.ack_due_at - dt.timedelta(minutes=30))
    assert watch(db_session, clock) == {"due_soon": 1, "breached": 0}
    assert watch(db_session, clock) == {"due_soon": 0, "breached": 0}  # once
    clock.set(incident.ack_due_at + dt.timedelta(minutes=1))
    assert watch(db_session, clock) == {"due_soon": 0, "breached": 1}
    assert watch(db_session, clock) == {"due_soon": 0, "breached": 0}
    ack = SlaDeadline.ACKNOWLEDGEMENT
    assert alerts(db_session, incident) == [
        (IncidentEventName.SLA_DUE_SOON.value, ack),
        (IncidentEventName.SLA_BREACHED.value, ack),
    ]
    commit_and_deliver(db_session, session_factory, clock)
    for user in (cert.lead, cert.on_duty):  # nobody is assigned: the scope is told
        told = [(n.kind, n.deadline) for n in notifications(db_session, user)][1:]
        assert told == [
            (NotificationKind.SLA_DUE_SOON, ack),
            (NotificationKind.SLA_BREACHED, ack),
        ]
    assert notifications(db_session, cert.analyst) == []


def test_the_assignee_is_told_of_the_resolution_due_date(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    analyst = Actor.for_user(cert.analyst)
    workflow.assign(db_session, analyst, incident, cert.analyst, clock=clock)
    workflow.change_status(db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS)
    clock.set(incident.resolve_due_at + dt.timedelta(minutes=5))  # acknowledged: only resolution
    assert watch(db_session, clock) == {"due_soon": 0, "breached": 1}
    commit_and_deliver(db_session, session_factory, clock)
    [told] = notifications(db_session, cert.analyst)
    assert (told.kind, told.deadline) == (NotificationKind.SLA_BREACHED, SlaDeadline.RESOLUTION)
    assert [n.kind for n in notifications(db_session, cert.lead)] == [NotificationKind.NEW_INCIDENT]


def test_a_new_due_date_is_announced_again(
    db_session: Session, clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter)
    clock.set(incident.ack_due_at - dt.timedelta(minutes=30))
    assert watch(db_session, clock)["due_soon"] == 1
    workflow.set_priority(
        db_session,
        Actor.for_user(cert.lead),
        incident,
        "P3",
        "Minor",
        clock=clock,
        settings=SETTINGS,
    )
    assert watch(db_session, clock)["due_soon"] == 0  # P3: 24 h to acknowledge
    clock.set(incident.ack_due_at - dt.timedelta(minutes=30))
    assert watch(db_session, clock)["due_soon"] == 1


def test_met_closed_and_old_due_dates_are_not_announced(
    db_session: Session, clock: FrozenClock, cert: Cert
) -> None:
    old = report(db_session, clock, cert.reporter)
    closed = report(db_session, clock, cert.reporter)
    analyst = Actor.for_user(cert.analyst)
    workflow.change_status(
        db_session, analyst, closed, "rejected", clock=clock, settings=SETTINGS, reason="Spam"
    )
    clock.set(old.resolve_due_at + dt.timedelta(days=2))  # breached two days ago
    assert watch(db_session, clock) == {"due_soon": 0, "breached": 0}
    assert alerts(db_session, closed) == [] and alerts(db_session, old) == []


def test_the_scan_reads_index_ranges(db_session: Session, clock: FrozenClock) -> None:
    """Both queries use an index on their due date (not a scan of every incident)."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    from incidents.notifications import sla_watch

    now = clock.now()
    plans = []
    for deadline in SlaDeadline:
        statement = sla_watch.candidates_query(deadline, now, WINDOW)
        compiled = statement.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True})
        plans.append(
            " ".join(
                str(row[-1]) for row in db_session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        )
    assert "ix_incidents_unacknowledged_ack_due" in plans[0], plans[0]
    assert "ix_incidents_status_sla" in plans[1], plans[1]
