"""The reporter's status-change e-mails (Flask-free use case of the mail job): each row the
``notifications.reporter_mail`` handler wrote becomes one message in the outbox, in the
reporter's language, with the ``/track`` link
(:func:`incidents.workspace.mail.queue_status_change`), and an internal "mail" line on the
incident's timeline, as the closing message has.

Replies and the closing message are mailed by the use cases themselves; the handler never
writes a row for them, so no change is mailed twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from incidents.intake.service import add_event
from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.notifications.models import ReporterMail
from incidents.settings import IntakeSettings
from incidents.workspace.mail import Recipient, queue_status_change, recipient_of
from incidents.workspace.workflow import public_reason

BATCH = 200
SENDER = Actor.system("system:notifications")  # the timeline's "mail" lines


def _resolution(session: Session, row: ReporterMail) -> str | None:
    if row.status is not IncidentStatus.RESOLVED or row.timeline_event_id is None:
        return None
    line = session.get(IncidentEvent, row.timeline_event_id)
    value = (line.data or {}).get("resolution") if line is not None else None
    return str(value) if value else None


def _reason(session: Session, row: ReporterMail) -> str | None:
    """The public reason of a ``rejected`` or ``duplicate`` decision (others are internal)."""
    if row.timeline_event_id is None:
        return None
    line = session.get(IncidentEvent, row.timeline_event_id)
    return public_reason(line.kind, line.data or {}) if line is not None else None


def _merged_into(session: Session, incident: Incident, row: ReporterMail) -> str | None:
    """The surviving incident's reference (merged into, or marked a duplicate of), for a
    reporter of the same organisation only."""
    into = row.merged_into_id
    if into is None and row.status is IncidentStatus.DUPLICATE:
        into = incident.duplicate_of_id
    if into is None:
        return None
    survivor = session.get(Incident, into)
    if survivor is None or survivor.organisation_id != incident.organisation_id:
        return None
    return survivor.reference


def send_reporter_mails(session: Session, *, settings: IntakeSettings, clock: Clock) -> int:
    """Queue the due status-change e-mails (in the caller's transaction); how many were queued.

    Each row is deleted once handled. It is mailed only when it still says where the report
    stands: a change outrun by a later one before the job ran (triaged, then being handled a
    minute later; resolved, then closed — the closing message has gone already) is folded into
    that later one, so the reporter never reads an older status after a newer one. Without a
    known address there is nothing to send.
    """
    rows = list(session.scalars(select(ReporterMail).order_by(ReporterMail.id).limit(BATCH)))
    latest = {row.incident_id: row.id for row in rows}
    sent = 0
    for row in rows:
        incident = session.get(Incident, row.incident_id)
        current = (
            incident is not None
            and latest[row.incident_id] == row.id
            and incident.status == row.status
        )
        recipient = recipient_of(session, incident) if current and incident is not None else None
        if incident is not None and recipient is not None:
            _mail(session, incident, row, recipient, settings=settings, clock=clock)
            sent += 1
        session.delete(row)
    session.flush()
    return sent


def _mail(
    session: Session,
    incident: Incident,
    row: ReporterMail,
    recipient: Recipient,
    *,
    settings: IntakeSettings,
    clock: Clock,
) -> None:
    message = queue_status_change(
        session,
        incident,
        recipient,
        settings=settings,
        clock=clock,
        resolution=_resolution(session, row),
        merged_into=_merged_into(session, incident, row),
        reason=_reason(session, row),
    )
    add_event(
        session,
        incident,
        SENDER,
        "mail",
        clock=clock,
        data={"to": recipient.address, "subject": message.subject, "template": "status_changed"},
    )
