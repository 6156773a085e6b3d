"""The playbooks slice's subscriber to the incidents' domain events (Flask-free), listed in the
slice manifest (:data:`playbooks.slice.SLICE`) and run by the scheduler's ``events.deliver``
job: ``playbooks.triggers`` starts the after-incident playbooks an event triggers
(:func:`playbooks.automation.triggers.start_triggered_runs`), in the delivery's transaction —
the runs commit with the delivery's ``done`` mark, and a redelivered event finds their dedupe
keys and starts nothing twice.

The incident is loaded by the payload's id (the payload holds no text and is not trusted for
the facts conditions check, except the status event's new status, a validated enumeration).
The dispatcher hands handlers no clock: a run starts at the event's time — what the runs and
their tests agree on, and never later than the moment it is delivered. The run budgets
(``CERT_PLAYBOOK_MAX_STEPS``, ``CERT_PLAYBOOK_MAX_DAYS``) are the slice's settings, handed over
by the dispatcher.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.events import Event, Handler
from incidents import events
from incidents.events import IncidentEventName as Name
from incidents.models import Incident
from playbooks.automation.triggers import start_triggered_runs
from playbooks.models import TriggerEvent
from playbooks.settings import PlaybookSettings

KINDS: dict[Name, TriggerEvent] = {
    Name.SUBMITTED: TriggerEvent.CREATED,
    Name.CLASSIFIED: TriggerEvent.CLASSIFIED,
    Name.PRIORITY_CHANGED: TriggerEvent.PRIORITY,
    Name.MARKINGS_CHANGED: TriggerEvent.MARKINGS,
    Name.STATUS_CHANGED: TriggerEvent.STATUS,
    Name.INTEL_MATCHED: TriggerEvent.INTEL_MATCH,
}


@dataclass(frozen=True)
class _At:
    """A clock stopped at the event's time."""

    when: dt.datetime

    def now(self) -> dt.datetime:
        return self.when


def start_playbooks(session: Session, event: Event, settings: PlaybookSettings) -> None:
    payload, kind = event.payload, KINDS.get(Name(event.name)) if event.name in KINDS else None
    if kind is None or not isinstance(payload, events.IncidentPayload):
        raise TypeError(f"{event.name}: not an event playbooks are triggered by")
    if event.id is None or event.occurred_at is None:
        raise ValueError(f"{event.name}: an event read back from the table is needed")
    incident = session.get(Incident, payload.incident_id)
    if incident is None:  # deleted since: nothing to respond to
        return
    status = payload.new if isinstance(payload, events.StatusChanged) else None
    start_triggered_runs(
        session,
        incident,
        kind,
        event_id=event.id,
        clock=_At(event.occurred_at),
        settings=settings,
        status=status,
    )


HANDLERS: tuple[Handler, ...] = (
    Handler.with_settings(
        "playbooks.triggers",
        set(KINDS),
        start_playbooks,
        slice_name="playbooks",
        kind=PlaybookSettings,
    ),
)
