"""The notification centre's subscribers to the incidents' domain events (Flask-free), listed in
the slice manifest (:data:`incidents.slice.SLICE`) and run by the scheduler's ``events.deliver``
job: each delivery at most once, its writes committed with the delivery's ``done`` mark.

* ``notifications.notify`` writes the CERT staff's notifications (:mod:`.recipients` decides who),
  among them the retro-hunt's new threat-intel matches (``incident.intel_matched`` found by
  retro-hunt: the assignee, else the leads and the staff on duty);
* ``notifications.answer_waiting`` keeps the queue's "answer waiting" marker: set by a reporter's
  answer, cleared by a reply of the CERT, a move out of the open statuses or a merge;
* ``notifications.reporter_mail`` decides the reporter's e-mail on a status change — not on
  closing, which :func:`incidents.workspace.workflow.change_status` already mails (the closing
  message), nor on a reply, which :func:`incidents.workspace.conversation.reply_to_reporter`
  mails — and on a merge (the duplicate's reporter); the mail job sends it.

Handlers load what they need by the payload's ids: the payload holds no text.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.events import Event, Handler
from core.identity.models import User
from incidents import events
from incidents.events import IncidentEventName as Name
from incidents.events import SlaDeadline
from incidents.intel.models import FoundBy
from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.notifications import mentions, recipients
from incidents.notifications.answers import track_answers, when
from incidents.notifications.models import (
    EmailMode,
    Notification,
    NotificationKind,
    ReporterMail,
)
from incidents.notifications.preferences import email_modes
from incidents.workspace.mail import plain_text


def _incident(session: Session, event: Event) -> Incident | None:
    payload = event.payload
    if not isinstance(payload, events.IncidentPayload):
        raise TypeError(f"{event.name}: not an incident's event")
    return session.get(Incident, payload.incident_id)  # None once deleted: nobody to tell


# ------------------------------------------------------------------ staff notifications
def notify(session: Session, event: Event) -> None:
    incident = _incident(session, event)
    if incident is None:
        return
    kind, deadline, users = _what(session, event, incident)
    if kind is None:
        return
    told = recipients.told(users, incident, actor_id=event.actor_id)
    modes = email_modes(session, [user.id for user in told])
    session.add_all(
        Notification(
            user_id=user.id,
            incident_id=incident.id,
            kind=kind,
            deadline=deadline,
            event_id=event.id,
            actor_id=event.actor_id,
            created_at=when(event),
            read_at=None,
            mail_pending=modes[user.id] is not EmailMode.OFF,
        )
        for user in told
    )


What = tuple[NotificationKind | None, SlaDeadline | None, list[User]]


def _what(session: Session, event: Event, incident: Incident) -> What:
    """The kind of notification an event makes, its due date (SLA alerts) and whom it is for."""
    payload = event.payload
    if event.name is Name.SUBMITTED:
        return NotificationKind.NEW_INCIDENT, None, recipients.scope(session)
    if event.name is Name.ASSIGNED and isinstance(payload, events.Assigned):
        return NotificationKind.ASSIGNED, None, _assignee(session, incident, payload)
    if event.name is Name.REPORTER_ANSWERED:
        return NotificationKind.REPORTER_ANSWERED, None, recipients.owners(session, incident)
    if event.name is Name.COMMENTED and isinstance(payload, events.Commented):
        return NotificationKind.MENTIONED, None, _mentioned(session, payload)
    if isinstance(payload, events.IntelMatched) and payload.found_by == FoundBy.RETROHUNT:
        # new intelligence met an older incident: its owner (the assignee, else leads and the
        # staff on duty); matches on arrival or on an added observable tell nobody (the
        # new-incident notification, or the analyst who added it, already covers them)
        return NotificationKind.INTEL_MATCH, None, recipients.owners(session, incident)
    if isinstance(payload, events.SlaAlert):
        kind = (
            NotificationKind.SLA_BREACHED
            if event.name is Name.SLA_BREACHED
            else NotificationKind.SLA_DUE_SOON
        )
        return kind, payload.deadline, recipients.owners(session, incident)
    return None, None, []


def _assignee(session: Session, incident: Incident, payload: events.Assigned) -> list[User]:
    """The new assignee, while they still are (a later reassignment makes this one stale)."""
    new = payload.new_assignee_id
    if new is None or incident.assignee_id != new:
        return []
    user = session.get(User, new)
    return [user] if user is not None else []


def _mentioned(session: Session, payload: events.Commented) -> list[User]:
    """The CERT staff a comment names with ``@…`` (see :mod:`.mentions`)."""
    line = session.get(IncidentEvent, payload.timeline_event_id)
    body = str((line.data or {}).get("body", "")) if line is not None else ""
    wanted = mentions.mentioned(plain_text(body))
    if not wanted:
        return []
    return [
        user
        for user in recipients.active_staff(session)
        if mentions.handles(user.name, user.email) & wanted
    ]


# ------------------------------------------------------------------ the reporter's e-mails
def decide_reporter_mail(session: Session, event: Event) -> None:
    payload = event.payload
    if isinstance(payload, events.StatusChanged):
        if payload.new is IncidentStatus.CLOSED:  # the closing message went with the change
            return
        incident_id, status, line, into = (
            payload.incident_id,
            payload.new,
            payload.timeline_event_id,
            None,
        )
    elif isinstance(payload, events.Merged):
        incident_id, status, line, into = (
            payload.duplicate_id,
            IncidentStatus.DUPLICATE,
            None,
            payload.incident_id,
        )
    else:
        return
    if session.get(Incident, incident_id) is None or event.id is None:
        return
    session.add(
        ReporterMail(
            incident_id=incident_id,
            event_id=event.id,
            status=status,
            timeline_event_id=line,
            merged_into_id=into,
            created_at=when(event),
        )
    )


HANDLERS: tuple[Handler, ...] = (
    Handler(
        "notifications.notify",
        {
            Name.SUBMITTED,
            Name.ASSIGNED,
            Name.REPORTER_ANSWERED,
            Name.COMMENTED,
            Name.SLA_DUE_SOON,
            Name.SLA_BREACHED,
            Name.INTEL_MATCHED,
        },
        notify,
    ),
    Handler(
        "notifications.answer_waiting",
        {Name.REPORTER_ANSWERED, Name.REPLIED, Name.STATUS_CHANGED, Name.MERGED},
        track_answers,
    ),
    Handler(
        "notifications.reporter_mail", {Name.STATUS_CHANGED, Name.MERGED}, decide_reporter_mail
    ),
)
