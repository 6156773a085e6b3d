"""The incidents slice's durable domain events (Flask-free): names, typed payloads, recording.

Each use case that changes an incident records one event in its transaction (next to the
blinker signal of :mod:`incidents.signals`, kept for now), delivered later to the handlers that
subscribe (:mod:`core.events`). Payloads carry ids and references only — never text written by
an organisation (titles, descriptions, messages, observable values), which handlers of other
slices would otherwise read: a handler loads what it needs, with the access rules of its use.
The aggregate is the incident, by reference.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy.orm import Session

from core.clock import Clock
from core.events import Event, EventName, Handler, Payload, record_event, register_events
from core.identity.authz import Actor
from incidents.models import Incident, IncidentStatus, ShareMode
from incidents.rules.priority import Priority

AGGREGATE = "incident"


class IncidentEventName(EventName):
    SUBMITTED = "incident.submitted"
    STATUS_CHANGED = "incident.status_changed"
    CLOSED = "incident.closed"
    ASSIGNED = "incident.assigned"
    PRIORITY_CHANGED = "incident.priority_changed"
    COMMENTED = "incident.commented"
    REPLIED = "incident.replied"
    REPORTER_ANSWERED = "incident.reporter_answered"
    OBSERVABLE_ADDED = "incident.observable_added"
    MERGED = "incident.merged"
    SLA_DUE_SOON = "incident.sla_due_soon"  # recorded by the SLA watch (incidents.notifications)
    SLA_BREACHED = "incident.sla_breached"
    INTEL_MATCHED = "incident.intel_matched"  # incidents.intel.sightings
    CLASSIFIED = "incident.classified"  # RSIT class/type changed by an analyst
    MARKINGS_CHANGED = "incident.markings_changed"  # TLP/PAP changed
    TASK_DONE = "incident.task_done"  # a task marked done, or reopened (``done`` false)
    TRANSFERRED = "incident.transferred"  # moved to another vigilance centre (incidents.centres)
    ESCALATED = "incident.escalated"  # not acknowledged in time (incidents.notifications)
    SHARED = "incident.shared"  # shared with another centre, or the share's mode changed
    UNSHARED = "incident.unshared"


class IncidentPayload(Payload):
    incident_id: int
    reference: str


class Submitted(IncidentPayload):
    organisation_id: int
    priority: Priority
    tlp: str
    category: str
    type: str | None
    observable_ids: list[int]


class TimelinePayload(IncidentPayload):
    """A change with its line on the incident's timeline (``incident_events.id``)."""

    timeline_event_id: int


class StatusChanged(TimelinePayload):
    old: IncidentStatus
    new: IncidentStatus


class Closed(TimelinePayload):
    pass


class Assigned(TimelinePayload):
    old_assignee_id: int | None  # user ids (the blinker signal sends e-mail addresses)
    new_assignee_id: int | None


class PriorityChanged(TimelinePayload):
    old: Priority
    new: Priority


class Commented(TimelinePayload):
    """An internal comment of the CERT."""


class Replied(TimelinePayload):
    """A reply of the CERT to the reporter (e-mailed)."""


class ReporterAnswered(TimelinePayload):
    """An answer of the reporter from the status page."""


class ObservableAdded(TimelinePayload):
    observable_id: int
    observable_type: str


class IntelMatched(TimelinePayload):
    """Observables of the incident met indicators of the index (new sightings only, listed on
    the timeline line ``timeline_event_id``); ``found_by``: arrival, observable or retrohunt."""

    match_ids: list[int]
    found_by: str


class Classified(TimelinePayload):
    old_category: str
    old_type: str | None
    category: str
    type: str | None


class MarkingsChanged(TimelinePayload):
    old_tlp: str
    tlp: str
    pap: str


class TaskDone(TimelinePayload):
    task_id: int
    done: bool


class Transferred(TimelinePayload):
    """The incident moved from one vigilance centre to another (centre ids)."""

    from_centre_id: int
    to_centre_id: int


class Shared(TimelinePayload):
    """The incident was shared with ``centre_id`` (or its share's mode changed): ``read`` or
    ``work``. Its members now see it — the handlers may tell them."""

    centre_id: int
    mode: ShareMode


class Unshared(TimelinePayload):
    centre_id: int


class Merged(IncidentPayload):
    """``duplicate_*`` was folded into the incident (the survivor)."""

    duplicate_id: int
    duplicate_reference: str
    same_organisation: bool
    observables: int  # moved
    kept: int  # kept on the duplicate (another organisation's report of the same value)
    tasks: int
    events: int


class SlaDeadline(enum.StrEnum):
    """The SLA due dates an incident is watched on (``ack_due_at``, ``resolve_due_at``)."""

    ACKNOWLEDGEMENT = "acknowledgement"
    RESOLUTION = "resolution"


class SlaAlert(IncidentPayload):
    """A due date not yet met is near (``incident.sla_due_soon``) or has passed
    (``incident.sla_breached``); recorded once per incident, due date, state and ``due_at``."""

    deadline: SlaDeadline
    due_at: dt.datetime


class Escalated(TimelinePayload):
    """An incident not acknowledged by its due time ``due_at`` climbed escalation ``step``
    (``leads``, ``national``; see :mod:`incidents.rules.escalation_steps`): ``centre_id`` is the
    centre whose people are told (the incident's for ``leads``, the national one for
    ``national``). Recorded once per incident, step and due time."""

    step: str
    centre_id: int
    due_at: dt.datetime


PAYLOADS: dict[EventName, type[Payload]] = {
    IncidentEventName.SUBMITTED: Submitted,
    IncidentEventName.STATUS_CHANGED: StatusChanged,
    IncidentEventName.CLOSED: Closed,
    IncidentEventName.ASSIGNED: Assigned,
    IncidentEventName.PRIORITY_CHANGED: PriorityChanged,
    IncidentEventName.COMMENTED: Commented,
    IncidentEventName.REPLIED: Replied,
    IncidentEventName.REPORTER_ANSWERED: ReporterAnswered,
    IncidentEventName.OBSERVABLE_ADDED: ObservableAdded,
    IncidentEventName.MERGED: Merged,
    IncidentEventName.SLA_DUE_SOON: SlaAlert,
    IncidentEventName.SLA_BREACHED: SlaAlert,
    IncidentEventName.INTEL_MATCHED: IntelMatched,
    IncidentEventName.CLASSIFIED: Classified,
    IncidentEventName.MARKINGS_CHANGED: MarkingsChanged,
    IncidentEventName.TASK_DONE: TaskDone,
    IncidentEventName.TRANSFERRED: Transferred,
    IncidentEventName.ESCALATED: Escalated,
    IncidentEventName.SHARED: Shared,
    IncidentEventName.UNSHARED: Unshared,
}
register_events(PAYLOADS)
_TIMELINE_ONLY: dict[IncidentEventName, type[TimelinePayload]] = {
    IncidentEventName.CLOSED: Closed,
    IncidentEventName.COMMENTED: Commented,
    IncidentEventName.REPLIED: Replied,
    IncidentEventName.REPORTER_ANSWERED: ReporterAnswered,
}


def record(
    session: Session,
    actor: Actor,
    incident: Incident,
    name: IncidentEventName,
    payload: Payload,
    *,
    clock: Clock,
) -> int:
    """Record ``name`` about ``incident`` in the caller's transaction (one INSERT)."""
    event = Event.of(name, payload, aggregate=(AGGREGATE, incident.reference), actor=actor)
    return record_event(session, event, clock=clock)


def on_timeline(
    session: Session,
    actor: Actor,
    incident: Incident,
    name: IncidentEventName,
    timeline_event_id: int,
    *,
    clock: Clock,
) -> int:
    """Record an event whose payload is the incident and its timeline line only."""
    model = _TIMELINE_ONLY[name]
    payload = model(
        incident_id=incident.id, reference=incident.reference, timeline_event_id=timeline_event_id
    )
    return record(session, actor, incident, name, payload, clock=clock)


# Subscribers of this module's own (none: the notification centre's are in
# incidents.notifications.handlers; the playbooks, feeds and bulletins slices will add theirs).
HANDLERS: tuple[Handler, ...] = ()
