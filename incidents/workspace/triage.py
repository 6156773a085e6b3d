"""How urgent and what an incident is (Flask-free use cases): its priority (with the reason, the
SLA due dates recomputed from ``CERT_SLA_POLICY``), its RSIT classification and its TLP/PAP
markings. Each change is written on the timeline with an audit row
(:mod:`incidents.workspace.changes`) and records its domain event."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import ValidationFailed, reason_of
from core.i18n import N_
from core.identity.authz import Actor
from core.markings import parse_pap, parse_tlp
from incidents import events
from incidents.access import RED, sees_all_red
from incidents.actions import IncidentAction
from incidents.events import IncidentEventName
from incidents.intake.service import add_event
from incidents.models import Incident, IncidentEvent
from incidents.rules.priority import Priority, deadlines
from incidents.rules.taxonomy import UnknownClassification, validate_classification
from incidents.settings import IntakeSettings
from incidents.signals import incident_priority_changed
from incidents.workspace.changes import MAX_REASON, join, record_change, require_work, text_field


def set_priority(
    session: Session,
    actor: Actor,
    incident: Incident,
    priority: str,
    reason: str,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> IncidentEvent:
    """Override the priority (with the reason) and recompute the SLA due dates from the policy
    (``CERT_SLA_POLICY``, in the intake settings)."""
    require_work(actor, incident, "changing the priority")
    try:
        new = Priority(priority.strip().upper())
    except ValueError:
        raise ValidationFailed(
            "unknown priority", fields={"priority": N_("one of P1, P2, P3, P4")}
        ) from None
    why = text_field("reason", reason, limit=MAX_REASON, required=True)
    old = incident.priority
    due = deadlines(new, incident.received_at, policy=settings.sla_policy)
    incident.priority, incident.priority_reason = new, why
    incident.ack_due_at, incident.resolve_due_at = due.acknowledge_by, due.resolve_by
    incident.updated_at = clock.now()
    data = {"from": old, "to": new.value, "reason": why}
    event = add_event(session, incident, actor, "priority", clock=clock, public=True, data=data)
    session.flush()
    audit.record(
        session,
        actor,
        IncidentAction.PRIORITY,
        "incident",
        incident.reference,
        clock=clock,
        before={"priority": old},
        after=data,
    )
    changed = events.PriorityChanged(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=event.id,
        old=old,
        new=new,
    )
    events.record(
        session, actor, incident, IncidentEventName.PRIORITY_CHANGED, changed, clock=clock
    )
    incident_priority_changed.send(
        incident, session=session, actor=actor, old=old, new=new.value, event=event
    )
    return event


def reclassify(
    session: Session,
    actor: Actor,
    incident: Incident,
    category: str,
    type: str | None,  # noqa: A002 - the RSIT word, as in the model
    *,
    clock: Clock,
) -> IncidentEvent:
    """Change the RSIT class and type (validated against the taxonomy)."""
    require_work(actor, incident, "reclassifying incidents")
    try:
        category, type = validate_classification(
            category.strip().lower(), type and type.strip().lower()
        )
    except UnknownClassification as exc:
        raise ValidationFailed(
            "invalid classification", fields={exc.field: reason_of(exc)}
        ) from None
    before = {"category": incident.category, "type": incident.type}
    incident.category, incident.type, incident.updated_at = category, type, clock.now()
    data = {"from": before, "to": {"category": category, "type": type}}
    line = record_change(session, actor, incident, IncidentAction.CLASSIFICATION, data, clock=clock)
    classified = events.Classified(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=line.id,
        old_category=before["category"] or "",
        old_type=before["type"],
        category=category,
        type=type,
    )
    events.record(session, actor, incident, IncidentEventName.CLASSIFIED, classified, clock=clock)
    return line


def set_markings(
    session: Session, actor: Actor, incident: Incident, tlp: str, pap: str, *, clock: Clock
) -> IncidentEvent:
    """Change TLP and PAP. Observables that carried the incident's TLP follow it. An analyst who
    marks an incident ``TLP:RED`` becomes a participant, so as not to lose sight of it."""
    require_work(actor, incident, "changing markings")
    try:
        new_tlp = parse_tlp(tlp)
    except ValueError as exc:
        raise ValidationFailed("invalid TLP", fields={"tlp": reason_of(exc)}) from None
    try:
        new_pap = parse_pap(pap)
    except ValueError as exc:
        raise ValidationFailed("invalid PAP", fields={"pap": reason_of(exc)}) from None
    before = {"tlp": incident.tlp, "pap": incident.pap}
    for observable in incident.observables:
        if observable.tlp == incident.tlp:
            observable.tlp = new_tlp
    incident.tlp, incident.pap, incident.updated_at = new_tlp, new_pap, clock.now()
    if new_tlp == RED and not sees_all_red(actor) and incident.assignee_id != actor.user_id:
        join(incident, actor.user_id, actor, clock=clock)
    data = {"from": before, "to": {"tlp": new_tlp, "pap": new_pap}}
    line = record_change(session, actor, incident, IncidentAction.MARKINGS, data, clock=clock)
    changed = events.MarkingsChanged(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=line.id,
        old_tlp=str(before["tlp"]),
        tlp=str(new_tlp),
        pap=str(new_pap),
    )
    events.record(
        session, actor, incident, IncidentEventName.MARKINGS_CHANGED, changed, clock=clock
    )
    return line
