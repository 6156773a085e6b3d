"""The notification centre's subscribers to the incidents' domain events (Flask-free), listed in
the slice manifest (:data:`incidents.slice.SLICE`) and run by the scheduler's ``events.deliver``
job: each delivery at most once, its writes committed with the delivery's ``done`` mark.

* ``notifications.notify`` writes the CERT staff's notifications (:mod:`.recipients` decides who),
  among them the retro-hunt's new threat-intel matches (``incident.intel_matched`` found by
  retro-hunt: the assignee, else the centre's staff on duty and leads), the pages of a new
  incident of ``CERT_ESCALATION_PRIORITIES`` (urgent, to the centre's staff on duty), the
  escalation steps (``incident.escalated``, :mod:`.escalation`) and transfers
  (``incident.transferred``: the new centre's staff on duty, else its leads);
* ``notifications.answer_waiting`` keeps the queue's "answer waiting" marker: set by a reporter's
  answer, cleared by a reply of the CERT, a move out of the open statuses or a merge;
* ``notifications.reporter_mail`` decides the reporter's e-mail on a status change — not on
  closing, which :func:`incidents.workspace.workflow.change_status` already mails (the closing
  message), nor on a reply, which :func:`incidents.workspace.conversation.reply_to_reporter`
  mails — and on a merge (the duplicate's reporter); the mail job sends it.

Handlers load what they need by the payload's ids: the payload holds no text.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.events import Event, Handler
from core.identity.centres import Centre
from core.identity.models import User
from incidents import events
from incidents.events import IncidentEventName as Name
from incidents.events import SlaDeadline
from incidents.intel.models import FoundBy
from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.notifications import mentions, recipients
from incidents.notifications.answers import track_answers, when
from incidents.notifications.escalation import escalated_people
from incidents.notifications.models import (
    EmailMode,
    Notification,
    NotificationKind,
    ReporterMail,
)
from incidents.notifications.preferences import email_modes
from incidents.settings import IntakeSettings
from incidents.workspace.mail import plain_text


def _incident(session: Session, event: Event) -> Incident | None:
    payload = event.payload
    if not isinstance(payload, events.IncidentPayload):
        raise TypeError(f"{event.name}: not an incident's event")
    return session.get(Incident, payload.incident_id)  # None once deleted: nobody to tell


# ------------------------------------------------------------------ staff notifications
Group = tuple[NotificationKind, SlaDeadline | None, list[User]]


def notify(session: Session, event: Event, settings: IntakeSettings) -> None:
    incident = _incident(session, event)
    if incident is None:
        return
    rows: dict[int, tuple[User, NotificationKind, SlaDeadline | None]] = {}
    for kind, deadline, users in _what(session, event, incident, settings):
        for user in recipients.told(users, incident, actor_id=event.actor_id):
            rows.setdefault(user.id, (user, kind, deadline))  # the first group wins
    modes = email_modes(session, list(rows))
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
        for user, kind, deadline in rows.values()
    )


def _what(
    session: Session, event: Event, incident: Incident, settings: IntakeSettings
) -> list[Group]:
    """The notifications an event makes: groups of (kind, due date for SLA alerts, whom for)."""
    payload, at = event.payload, when(event)
    if event.name is Name.SUBMITTED and isinstance(payload, events.Submitted):
        return _submitted(session, incident, payload, settings, at)
    if event.name is Name.ASSIGNED and isinstance(payload, events.Assigned):
        return [(NotificationKind.ASSIGNED, None, _assignee(session, incident, payload))]
    if event.name is Name.REPORTER_ANSWERED:
        owners = recipients.owners(session, incident, at=at)
        return [(NotificationKind.REPORTER_ANSWERED, None, owners)]
    if event.name is Name.COMMENTED and isinstance(payload, events.Commented):
        return [(NotificationKind.MENTIONED, None, _mentioned(session, payload))]
    if isinstance(payload, events.IntelMatched) and payload.found_by == FoundBy.RETROHUNT:
        # new intelligence met an older incident: its owner (the assignee, else the centre's
        # staff on duty and leads); matches on arrival or on an added observable tell nobody
        # (the new-incident notification, or the analyst who added it, already covers them)
        owners = recipients.owners(session, incident, at=at)
        return [(NotificationKind.INTEL_MATCH, None, owners)]
    if isinstance(payload, events.SlaAlert):
        kind = (
            NotificationKind.SLA_BREACHED
            if event.name is Name.SLA_BREACHED
            else NotificationKind.SLA_DUE_SOON
        )
        return [(kind, payload.deadline, recipients.owners(session, incident, at=at))]
    if isinstance(payload, events.Escalated):
        people = escalated_people(session, incident, payload, at=at)
        return [(NotificationKind.ESCALATED, None, people)]
    if isinstance(payload, events.Transferred):
        return [(NotificationKind.TRANSFERRED, None, _transferred(session, event, incident))]
    return []


def _submitted(
    session: Session,
    incident: Incident,
    payload: events.Submitted,
    settings: IntakeSettings,
    at: dt.datetime,
) -> list[Group]:
    """A new incident: its centre's staff on duty — urgently for a priority of
    ``CERT_ESCALATION_PRIORITIES`` — and its leads (see :func:`recipients.scope`)."""
    duty, leads = recipients.on_duty_and_leads(session, incident, at=at)
    if payload.priority not in settings.escalation_priorities:
        return [(NotificationKind.NEW_INCIDENT, None, [*duty, *leads])]
    return [
        (NotificationKind.URGENT_INCIDENT, None, duty),
        (NotificationKind.NEW_INCIDENT, None, leads),
    ]


def _transferred(session: Session, event: Event, incident: Incident) -> list[User]:
    """The new centre's staff on duty (its leads when nobody there may be told), while the
    incident is still there (a transfer outrun by another tells only the last centre)."""
    payload = event.payload
    if not isinstance(payload, events.Transferred) or incident.centre_id != payload.to_centre_id:
        return []
    centre = session.get(Centre, payload.to_centre_id)
    if centre is None:
        return []
    return recipients.transfer_people(
        session, incident, centre, at=when(event), actor_id=event.actor_id
    )


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
    Handler.with_settings(
        "notifications.notify",
        {
            Name.SUBMITTED,
            Name.ASSIGNED,
            Name.REPORTER_ANSWERED,
            Name.COMMENTED,
            Name.SLA_DUE_SOON,
            Name.SLA_BREACHED,
            Name.INTEL_MATCHED,
            Name.ESCALATED,
            Name.TRANSFERRED,
        },
        notify,
        slice_name="incidents",
        kind=IntakeSettings,
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
