"""The SLA watch (Flask-free use case, run by the scheduler's ``incidents.notifications.sla``
job every ``CERT_NOTIFY_SLA_INTERVAL`` seconds): records ``incident.sla_due_soon`` and
``incident.sla_breached`` once per incident, due date, state and due time.

A due date is watched while it is not met, as :func:`incidents.rules.sla.sla_state` says:
acknowledgement while the incident is open and not acknowledged, resolution while it is open.

* **due soon**: the time left is at most a quarter of the time the SLA gave (receipt → due
  date) and at most ``due_soon`` (``CERT_NOTIFY_DUE_SOON_MINUTES``) — 15 minutes before a P1's
  one-hour acknowledgement, an hour before a three-day resolution;
* **breached**: the due date has passed, less than :data:`BREACH_LOOKBACK` ago: a breach older
  than that when first seen (history imported in bulk, a scheduler stopped for days) is not
  announced one by one — the queue's SLA filter lists them.

Each scan reads two index ranges — ``ix_incidents_unacknowledged_ack_due`` (acknowledgement due
dates of unacknowledged incidents) and ``ix_incidents_status_sla`` (status, resolution due date)
— bounded by the window, and the marks of the incidents found (``incident_sla_alerts``). A new
due date (after a priority change) is a new mark, announced again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from incidents import events
from incidents.events import IncidentEventName, SlaDeadline
from incidents.models import OPEN_STATUSES, Incident
from incidents.notifications.models import SlaAlertMark, SlaState

BREACH_LOOKBACK = dt.timedelta(days=1)
BATCH = 500  # incidents per due date and scan; the next scan takes the rest
_NAMES = {
    SlaState.DUE_SOON: IncidentEventName.SLA_DUE_SOON,
    SlaState.BREACHED: IncidentEventName.SLA_BREACHED,
}


@dataclass(frozen=True)
class Alert:
    incident: Incident
    deadline: SlaDeadline
    state: SlaState
    due_at: dt.datetime


def state_of(
    received_at: dt.datetime, due_at: dt.datetime, now: dt.datetime, window: dt.timedelta
) -> SlaState | None:
    """Where a due date not yet met stands: breached, due soon, or neither (``None``)."""
    if due_at < now:
        return SlaState.BREACHED
    soon = min(window, max(due_at - received_at, dt.timedelta(0)) / 4)
    return SlaState.DUE_SOON if due_at - now <= soon else None


def due_at(incident: Incident, deadline: SlaDeadline) -> dt.datetime:
    if deadline is SlaDeadline.ACKNOWLEDGEMENT:
        return incident.ack_due_at
    return incident.resolve_due_at


def candidates_query(
    deadline: SlaDeadline, now: dt.datetime, window: dt.timedelta
) -> Select[Incident]:
    """Incidents whose due date is not met, from ``BREACH_LOOKBACK`` ago to ``window`` ahead
    (one index range), by due date: open ones for the resolution; for the acknowledgement,
    those not acknowledged (the partial index's condition; the first move out of ``new``
    acknowledges, so they are open — :func:`due_alerts` checks it)."""
    acknowledgement = deadline is SlaDeadline.ACKNOWLEDGEMENT
    column = Incident.ack_due_at if acknowledgement else Incident.resolve_due_at
    where: list[ColumnElement[bool]] = [column > now - BREACH_LOOKBACK, column <= now + window]
    if acknowledgement:
        where.append(Incident.acknowledged_at.is_(None))
    else:
        where.append(Incident.status.in_(sorted(OPEN_STATUSES)))
    return select(Incident).where(*where).order_by(column, Incident.id).limit(BATCH)


def due_alerts(session: Session, *, now: dt.datetime, window: dt.timedelta) -> list[Alert]:
    """The alerts to record now: due dates due soon or breached, not announced yet."""
    found: list[Alert] = []
    for deadline in SlaDeadline:
        for incident in session.scalars(candidates_query(deadline, now, window)):
            if incident.status not in OPEN_STATUSES:
                continue
            due = due_at(incident, deadline)
            state = state_of(incident.received_at, due, now, window)
            if state is not None:
                found.append(Alert(incident, deadline, state, due))
    if not found:
        return []
    ids = sorted({alert.incident.id for alert in found})
    marked = {
        (mark.incident_id, mark.deadline, mark.state, mark.due_at)
        for mark in session.scalars(select(SlaAlertMark).where(SlaAlertMark.incident_id.in_(ids)))
    }
    return [
        alert
        for alert in found
        if (alert.incident.id, alert.deadline, alert.state, alert.due_at) not in marked
    ]


def scan(session: Session, actor: Actor, *, clock: Clock, window: dt.timedelta) -> dict[str, int]:
    """Mark and record every alert due now (in the caller's transaction); how many of each."""
    now = clock.now()
    counts = {state.value: 0 for state in SlaState}
    for alert in due_alerts(session, now=now, window=window):
        incident = alert.incident
        session.add(
            SlaAlertMark(
                incident_id=incident.id,
                deadline=alert.deadline,
                state=alert.state,
                due_at=alert.due_at,
                created_at=now,
            )
        )
        payload = events.SlaAlert(
            incident_id=incident.id,
            reference=incident.reference,
            deadline=alert.deadline,
            due_at=alert.due_at,
        )
        events.record(session, actor, incident, _NAMES[alert.state], payload, clock=clock)
        counts[alert.state.value] += 1
    session.flush()
    return counts
