"""Who handles an incident (Flask-free use cases): its assignee and its participants, CERT staff
named on it who then see it even at ``TLP:RED``. Each change is written on the timeline with an
audit row (:mod:`incidents.workspace.changes`); assigning also records ``incident.assigned``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import User
from incidents import events
from incidents.actions import IncidentAction
from incidents.events import IncidentEventName
from incidents.intake.service import add_event
from incidents.models import Incident, IncidentEvent
from incidents.signals import incident_assigned
from incidents.workspace.changes import check_staff, join, record_change, require_work


def assign(
    session: Session, actor: Actor, incident: Incident, assignee: User | None, *, clock: Clock
) -> IncidentEvent:
    """Give the incident to an active CERT staff member, or to nobody (``None``)."""
    require_work(actor, incident, "assigning incidents")
    if assignee is not None:
        check_staff("assignee", assignee)
    old = incident.assignee.email if incident.assignee else None
    old_id = incident.assignee_id
    incident.assignee_id = assignee.id if assignee else None
    incident.assignee = assignee
    incident.updated_at = clock.now()
    data = {"assignee": assignee.email if assignee else None}
    shown = {**data, "name": assignee.name} if assignee and assignee.name else data  # timeline
    event = add_event(session, incident, actor, "assignment", clock=clock, data=shown)
    session.flush()
    audit.record(
        session,
        actor,
        IncidentAction.ASSIGN,
        "incident",
        incident.reference,
        clock=clock,
        before={"assignee": old},
        after=data,
    )
    assigned = events.Assigned(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=event.id,
        old_assignee_id=old_id,
        new_assignee_id=incident.assignee_id,
    )
    events.record(session, actor, incident, IncidentEventName.ASSIGNED, assigned, clock=clock)
    incident_assigned.send(
        incident, session=session, actor=actor, old=old_id, new=incident.assignee_id, event=event
    )
    return event


def add_participant(
    session: Session, actor: Actor, incident: Incident, user: User, *, clock: Clock
) -> IncidentEvent:
    """Name a CERT staff member on the incident (they then see it even at ``TLP:RED``)."""
    require_work(actor, incident, "adding participants")
    check_staff("user", user)
    if any(p.user_id == user.id for p in incident.participants):
        raise ValidationFailed(
            "already a participant", fields={"user": N_("already a participant")}
        )
    join(incident, user.id, actor, clock=clock)
    return record_change(
        session, actor, incident, IncidentAction.PARTICIPANT, {"added": user.email}, clock=clock
    )


def remove_participant(
    session: Session, actor: Actor, incident: Incident, user: User, *, clock: Clock
) -> IncidentEvent:
    require_work(actor, incident, "removing participants")
    row = next((p for p in incident.participants if p.user_id == user.id), None)
    if row is None:
        raise ValidationFailed("not a participant", fields={"user": N_("not a participant")})
    incident.participants.remove(row)
    return record_change(
        session, actor, incident, IncidentAction.PARTICIPANT, {"removed": user.email}, clock=clock
    )
