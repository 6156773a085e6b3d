"""The queue's "answer waiting" marker (Flask-free): an incident whose reporter answered on the
status page and that the CERT has not answered since. Kept by the ``notifications.answer_waiting``
handler from the domain events — set by a reporter's answer (its first one not replied to),
cleared by a reply of the CERT, a move out of the open statuses (resolved, closed, rejected,
duplicate) or a merge of the incident into another — and read by the queue for its page of rows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.events import Event
from incidents import events
from incidents.events import IncidentEventName as Name
from incidents.models import OPEN_STATUSES, Incident
from incidents.notifications.models import AnswerWaiting


def when(event: Event) -> dt.datetime:
    """The time of an event read back from the table (always set there)."""
    if event.occurred_at is None:
        raise ValueError(f"event {event.id} has no time")
    return event.occurred_at


def track_answers(session: Session, event: Event) -> None:
    payload = event.payload
    if event.name is Name.REPORTER_ANSWERED and isinstance(payload, events.ReporterAnswered):
        waiting = session.get(AnswerWaiting, payload.incident_id)
        if waiting is None and session.get(Incident, payload.incident_id) is not None:
            session.add(
                AnswerWaiting(
                    incident_id=payload.incident_id,
                    since=when(event),
                    timeline_event_id=payload.timeline_event_id,
                )
            )
        return
    done: int | None = None
    if isinstance(payload, events.Replied) or (
        isinstance(payload, events.StatusChanged) and payload.new not in OPEN_STATUSES
    ):
        done = payload.incident_id
    elif isinstance(payload, events.Merged):
        done = payload.duplicate_id
    if done is not None:
        session.execute(delete(AnswerWaiting).where(AnswerWaiting.incident_id == done))


def answers_waiting(session: Session, incident_ids: list[int]) -> dict[int, dt.datetime]:
    """Of ``incident_ids``, those with an answer of their reporter waiting, and since when."""
    if not incident_ids:
        return {}
    rows = session.execute(
        select(AnswerWaiting.incident_id, AnswerWaiting.since).where(
            AnswerWaiting.incident_id.in_(incident_ids)
        )
    )
    return dict(rows.all())
