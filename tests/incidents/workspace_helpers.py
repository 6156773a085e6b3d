"""What the workspace tests look at after an action: an incident's timeline events, its mails in
the outbox and its audit entries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.outbox import OutboxMessage
from incidents.models import Incident, IncidentEvent


def events(session: Session, incident: Incident, kind: str | None = None) -> list[IncidentEvent]:
    query = select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
    if kind is not None:
        query = query.where(IncidentEvent.kind == kind)
    return list(session.scalars(query.order_by(IncidentEvent.id)))


def outbox(session: Session, incident: Incident) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.related_id == incident.reference)
            .order_by(OutboxMessage.id)
        )
    )


def audit_actions(session: Session, incident: Incident) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "incident", AuditEntry.object_id == incident.reference)
            .order_by(AuditEntry.id)
        )
    )
