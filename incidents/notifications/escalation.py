"""Escalation (Flask-free use case, run by the scheduler's ``incidents.notifications.escalate``
job every ``CERT_NOTIFY_SLA_INTERVAL`` seconds): a new incident of
``CERT_ESCALATION_PRIORITIES`` not acknowledged by its acknowledgement due time climbs the steps
of ``CERT_ESCALATION_STEPS`` (:mod:`incidents.rules.escalation_steps`; by default the leads of its
centre at the due time, the national coordination centre 30 minutes later).

Each step is taken once per incident and due time (``incident_escalations``, a new due time
after a priority change escalates again): a mark, an internal ``escalated`` line on the timeline
({step, centre}) and the domain event ``incident.escalated``, whose notification handler tells
the step's people (:func:`escalated_people`; urgent: e-mailed at the mail job's next run even to
those who chose the digest). :func:`incidents.access.can_see` applies: a ``TLP:RED`` incident
reaches leads, its assignee and named participants only.

An incident acknowledged (the first move out of ``new`` acknowledges it) or closed before a step
is not escalated; nor is a backlog: a step due more than :data:`BACKLOG` ago when first seen
(history imported, a scheduler stopped for days), as the SLA watch does. Each scan reads one
range of ``ix_incidents_unacknowledged_ack_due`` per step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from core.identity.centres import Centre, national_centre
from core.identity.models import User
from incidents import events
from incidents.events import IncidentEventName
from incidents.intake.service import add_event
from incidents.models import OPEN_STATUSES, Incident, Priority
from incidents.notifications import recipients
from incidents.notifications.models import EscalationMark
from incidents.rules.escalation_steps import EscalationStep, Step
from incidents.settings import IntakeSettings

BACKLOG = dt.timedelta(days=1)
BATCH = 500  # incidents per step and scan; the next scan takes the rest


@dataclass(frozen=True)
class Due:
    incident: Incident
    step: Step
    due_at: dt.datetime  # the acknowledgement due time escalated


def candidates_query(
    step: EscalationStep, now: dt.datetime, priorities: frozenset[Priority]
) -> Select[Incident]:
    """Unacknowledged incidents of ``priorities`` whose step is due (``ack_due_at + after`` at
    or before ``now``), not more than :data:`BACKLOG` ago: one range of the partial index."""
    latest = now - step.after
    return (
        select(Incident)
        .where(
            Incident.ack_due_at <= latest,
            Incident.ack_due_at > latest - BACKLOG,
            Incident.acknowledged_at.is_(None),
            Incident.priority.in_(sorted(priorities)),
        )
        .order_by(Incident.ack_due_at, Incident.id)
        .limit(BATCH)
    )


def due_steps(session: Session, *, now: dt.datetime, settings: IntakeSettings) -> list[Due]:
    """The steps to take now: due, on open unacknowledged incidents, not taken yet."""
    if not settings.escalation_priorities:
        return []
    found: list[Due] = []
    for step in settings.escalation_steps:
        query = candidates_query(step, now, settings.escalation_priorities)
        for incident in session.scalars(query):
            if incident.status in OPEN_STATUSES:
                found.append(Due(incident, step.step, incident.ack_due_at))
    if not found:
        return []
    ids = sorted({due.incident.id for due in found})
    taken = {
        (mark.incident_id, mark.step, mark.due_at)
        for mark in session.scalars(
            select(EscalationMark).where(EscalationMark.incident_id.in_(ids))
        )
    }
    return [due for due in found if (due.incident.id, due.step.value, due.due_at) not in taken]


def _centre(session: Session, due: Due) -> Centre:
    """The centre whose people the step tells: the incident's (leads), the national one."""
    if due.step is Step.LEADS:
        return recipients.centre_of(session, due.incident)
    return national_centre(session)


def escalate(
    session: Session, actor: Actor, *, clock: Clock, settings: IntakeSettings
) -> dict[str, int]:
    """Take every step due now (in the caller's transaction); how many of each step."""
    now = clock.now()
    counts = {step.step.value: 0 for step in settings.escalation_steps}
    for due in due_steps(session, now=now, settings=settings):
        incident, centre = due.incident, _centre(session, due)
        session.add(
            EscalationMark(
                incident_id=incident.id,
                step=due.step.value,
                due_at=due.due_at,
                centre_id=centre.id,
                created_at=now,
            )
        )
        data = {"step": due.step.value, "centre": centre.slug, "centre_name": centre.name}
        line = add_event(session, incident, actor, "escalated", clock=clock, data=data)
        session.flush()
        payload = events.Escalated(
            incident_id=incident.id,
            reference=incident.reference,
            timeline_event_id=line.id,
            step=due.step.value,
            centre_id=centre.id,
            due_at=due.due_at,
        )
        events.record(session, actor, incident, IncidentEventName.ESCALATED, payload, clock=clock)
        counts[due.step.value] += 1
    session.flush()
    return counts


def escalated_people(
    session: Session, incident: Incident, payload: events.Escalated, *, at: dt.datetime
) -> list[User]:
    """Whom an ``incident.escalated`` tells (:func:`recipients.step_people`) — nobody when the
    incident was acknowledged or closed since the step was taken."""
    if incident.acknowledged_at is not None or incident.status not in OPEN_STATUSES:
        return []
    centre = session.get(Centre, payload.centre_id)
    if centre is None:
        return []
    return recipients.step_people(session, Step(payload.step), centre, at=at)
