"""The analyst's workflow on one incident: status, assignment, priority, classification, markings
and participants (Flask-free use cases; the adapters load the incident with ``get_incident``).

Every change is checked (CERT staff only, ``incidents.models.TRANSITIONS``), written with an
:class:`~incidents.models.IncidentEvent` on the timeline and an audit row, then flushed; the
caller commits. Status events are public (the reporter's status page reads ``data["to"]``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import InvalidTransition, Message, ValidationFailed, reason_of
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.models import Role, User
from core.markings import parse_pap, parse_tlp
from incidents import events
from incidents.access import RED, sees_all_red, visible
from incidents.actions import IncidentAction
from incidents.events import IncidentEventName
from incidents.intake.service import add_event
from incidents.models import (
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentParticipant,
    IncidentStatus,
)
from incidents.rules import labels
from incidents.rules.priority import Priority, deadlines
from incidents.rules.taxonomy import UnknownClassification, validate_classification
from incidents.settings import IntakeSettings
from incidents.signals import (
    incident_assigned,
    incident_closed,
    incident_priority_changed,
    incident_status_changed,
)
from incidents.workspace.mail import queue_closing, recipient_of

_T = TypeVar("_T")
MAX_SUMMARY = 20_000
MAX_REASON = 2_000
# statuses that end the handling of a report without resolving it: their reason is required and
# shown to the reporter (the status page, the status e-mail); "duplicate" also names the original
PUBLIC_REASON = frozenset({IncidentStatus.REJECTED, IncidentStatus.DUPLICATE})


def require_staff(actor: Actor, what: str = "this action") -> None:
    """CERT analysts and above; reporters get ``PermissionDenied``."""
    require(actor, Role.ANALYST, what)


def text_field(name: str, value: str | None, *, limit: int, required: bool) -> str | None:
    """Stripped text of at most ``limit`` characters; ``ValidationFailed`` naming ``name``."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationFailed(f"{name} required", fields={name: N_("required")})
        return None
    if len(value) > limit:
        too_long = N_("at most %(limit)d characters", limit=limit)
        raise ValidationFailed(f"{name} too long", fields={name: too_long})
    return value


# ---------------------------------------------------------------- status
def change_status(
    session: Session,
    actor: Actor,
    incident: Incident,
    to: str | IncidentStatus,
    *,
    clock: Clock,
    settings: IntakeSettings,
    resolution: str | None = None,
    reason: str | None = None,
    duplicate_of: str | None = None,
    assignee: User | None = None,
) -> IncidentEvent:
    """Move along the workflow. Resolving needs a ``resolution`` summary and an owner (the
    assignee, or ``assignee`` given here, who is assigned first); ``rejected`` and ``duplicate``
    need a ``reason`` the reporter reads, and ``duplicate`` the reference of the original
    (``duplicate_of``: another incident the actor may see, not itself a duplicate). The first move
    out of ``new`` acknowledges the incident; closing e-mails the reporter; reopening clears the
    resolution and closing times (they are set again when it is resolved again). Everything is
    checked before anything is written."""
    require_staff(actor, "changing the status")
    old = incident.status
    new = _status(to)
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(
            "invalid transition",
            fields={
                "status": N_(
                    "cannot go from %(old)s to %(new)s",
                    old=Message.term(old, labels.STATUSES[old]),
                    new=Message.term(new, labels.STATUSES[new]),
                )
            },
        )
    checked = _Inputs.check(
        session, actor, incident, new, resolution, reason, duplicate_of, assignee
    )
    if checked.owner is not None:
        assign(session, actor, incident, checked.owner, clock=clock)
    now = clock.now()
    _move_dates(incident, old, new, checked.summary, now)
    incident.status, incident.updated_at = new, now
    if checked.original is not None:
        incident.duplicate_of_id = checked.original.id
    data = checked.event_data(old, new)
    event = add_event(session, incident, actor, "status", clock=clock, public=True, data=data)
    if new is IncidentStatus.CLOSED:
        _send_closing(session, actor, incident, clock=clock, settings=settings)
    session.flush()
    audit.record(
        session,
        actor,
        IncidentAction.STATUS,
        "incident",
        incident.reference,
        clock=clock,
        before={"status": old},
        after=data,
    )
    changed = events.StatusChanged(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=event.id,
        old=old,
        new=new,
    )
    events.record(session, actor, incident, IncidentEventName.STATUS_CHANGED, changed, clock=clock)
    incident_status_changed.send(
        incident, session=session, actor=actor, old=old, new=new, event=event
    )
    if new is IncidentStatus.CLOSED:
        events.on_timeline(
            session, actor, incident, IncidentEventName.CLOSED, event.id, clock=clock
        )
        incident_closed.send(incident, session=session, actor=actor, event=event)
    return event


@dataclass(frozen=True)
class _Inputs:
    """What a status change was given, checked: every missing or wrong field at once."""

    summary: str | None
    reason: str | None
    original: Incident | None
    owner: User | None

    @classmethod
    def check(
        cls,
        session: Session,
        actor: Actor,
        incident: Incident,
        new: IncidentStatus,
        resolution: str | None,
        reason: str | None,
        duplicate_of: str | None,
        assignee: User | None,
    ) -> _Inputs:
        problems: dict[str, str] = {}

        def checked(call: Callable[[], _T]) -> _T | None:
            try:
                return call()
            except ValidationFailed as exc:
                problems.update(exc.fields)
                return None

        resolving = new is IncidentStatus.RESOLVED
        summary = checked(
            lambda: text_field("resolution", resolution, limit=MAX_SUMMARY, required=resolving)
        )
        why = checked(
            lambda: text_field("reason", reason, limit=MAX_REASON, required=new in PUBLIC_REASON)
        )
        original = None
        if new is IncidentStatus.DUPLICATE:
            original = checked(lambda: _original(session, actor, incident, duplicate_of))
        owner = checked(lambda: _owner(incident, assignee)) if resolving else None
        if problems:
            raise ValidationFailed(f"cannot change the status to {new}", fields=problems)
        return cls(summary, why, original, owner)

    def event_data(self, old: IncidentStatus, new: IncidentStatus) -> dict[str, object]:
        """The status event's data (and the audit row's ``after``)."""
        data: dict[str, object] = {"from": old.value, "to": new.value}
        if self.summary is not None:
            data["resolution"] = self.summary
        if self.reason is not None:
            data["reason"] = self.reason
            if new in PUBLIC_REASON:
                data["reason_public"] = True  # older reasons were internal: only these are shown
        if self.original is not None:
            data["duplicate_of"] = self.original.reference  # named to who may see it (named.py)
        return data


def _move_dates(
    incident: Incident,
    old: IncidentStatus,
    new: IncidentStatus,
    summary: str | None,
    now: dt.datetime,
) -> None:
    """Acknowledged by the first move out of ``new``; resolved, closed, or reopened (cleared)."""
    if old is IncidentStatus.NEW and incident.acknowledged_at is None:
        incident.acknowledged_at = now
    if new is IncidentStatus.RESOLVED:
        incident.resolution, incident.resolved_at = summary, now
    elif new is IncidentStatus.CLOSED:
        incident.closed_at = now
        incident.resolved_at = incident.resolved_at or now
    elif new is IncidentStatus.IN_PROGRESS and old in {
        IncidentStatus.RESOLVED,
        IncidentStatus.CLOSED,
    }:
        incident.resolved_at = incident.closed_at = None


def public_reason(kind: str, data: Mapping[str, Any]) -> str | None:
    """The reason of a status event the reporter may read: that of a ``rejected`` or
    ``duplicate`` decision recorded as public (other reasons are internal)."""
    reason = data.get("reason")
    if kind != "status" or not data.get("reason_public") or not reason:
        return None
    return str(reason)


def _original(
    session: Session, actor: Actor, incident: Incident, reference: str | None
) -> Incident:
    """The incident ``incident`` duplicates: another one the actor may see, itself neither a
    duplicate nor merged (no chains, no loops); ``ValidationFailed`` naming ``duplicate_of``."""
    wanted = (reference or "").strip().upper()
    if not wanted:
        raise ValidationFailed(
            "duplicate_of required",
            fields={"duplicate_of": N_("give the reference of the original incident")},
        )
    original = session.scalar(
        select(Incident).where(Incident.reference == wanted, visible(actor))
    )  # what the actor may not see is "no such incident", as everywhere
    if original is None:
        raise ValidationFailed(
            "unknown original",
            fields={"duplicate_of": N_("no such incident %(reference)s", reference=wanted[:32])},
        )
    if original.id == incident.id:
        raise ValidationFailed(
            "same incident", fields={"duplicate_of": N_("an incident cannot duplicate itself")}
        )
    if original.status is IncidentStatus.DUPLICATE or original.duplicate_of_id is not None:
        raise ValidationFailed(
            "original is a duplicate",
            fields={
                "duplicate_of": N_(
                    "%(reference)s is itself a duplicate: give its original",
                    reference=original.reference,
                )
            },
        )
    return original


def _owner(incident: Incident, assignee: User | None) -> User | None:
    """Who to assign before resolving: ``assignee`` when given (checked as in :func:`assign`);
    nobody when the incident has an owner already; ``ValidationFailed`` when it has none."""
    if assignee is not None:
        _check_staff("assignee", assignee)
        return assignee if assignee.id != incident.assignee_id else None
    if incident.assignee_id is None:
        raise ValidationFailed(
            "owner required",
            fields={"assignee": N_("an unassigned incident needs an owner to be resolved")},
        )
    return None


def _status(value: str | IncidentStatus) -> IncidentStatus:
    try:
        return IncidentStatus(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(s.value for s in IncidentStatus)
        raise ValidationFailed(
            "unknown status",
            fields={
                "status": N_(
                    "unknown status %(value)s; valid: %(valid)s", value=repr(value), valid=valid
                )
            },
        ) from None


def _send_closing(
    session: Session, actor: Actor, incident: Incident, *, clock: Clock, settings: IntakeSettings
) -> None:
    """The closing message to the reporter, and an internal "mail" line on the timeline."""
    recipient = recipient_of(session, incident)
    if recipient is None:
        return
    message = queue_closing(session, incident, recipient, settings=settings, clock=clock)
    add_event(
        session,
        incident,
        actor,
        "mail",
        clock=clock,
        data={"to": recipient.address, "subject": message.subject, "template": "closing"},
    )


# ---------------------------------------------------------------- assignment
def assign(
    session: Session, actor: Actor, incident: Incident, assignee: User | None, *, clock: Clock
) -> IncidentEvent:
    """Give the incident to an active CERT staff member, or to nobody (``None``)."""
    require_staff(actor, "assigning incidents")
    if assignee is not None:
        _check_staff("assignee", assignee)
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


def _check_staff(field: str, user: User) -> None:
    if not user.is_cert_staff or not user.is_active:
        raise ValidationFailed(
            f"{field} must be CERT staff",
            fields={field: N_("%(email)s is not active CERT staff", email=user.email)},
        )


# ---------------------------------------------------------------- priority and classification
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
    require_staff(actor, "changing the priority")
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
    require_staff(actor, "reclassifying incidents")
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
    require_staff(actor, "changing markings")
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
        _join(incident, actor.user_id, actor, clock=clock)
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


# ---------------------------------------------------------------- participants
def add_participant(
    session: Session, actor: Actor, incident: Incident, user: User, *, clock: Clock
) -> IncidentEvent:
    """Name a CERT staff member on the incident (they then see it even at ``TLP:RED``)."""
    require_staff(actor, "adding participants")
    _check_staff("user", user)
    if any(p.user_id == user.id for p in incident.participants):
        raise ValidationFailed(
            "already a participant", fields={"user": N_("already a participant")}
        )
    _join(incident, user.id, actor, clock=clock)
    return record_change(
        session, actor, incident, IncidentAction.PARTICIPANT, {"added": user.email}, clock=clock
    )


def remove_participant(
    session: Session, actor: Actor, incident: Incident, user: User, *, clock: Clock
) -> IncidentEvent:
    require_staff(actor, "removing participants")
    row = next((p for p in incident.participants if p.user_id == user.id), None)
    if row is None:
        raise ValidationFailed("not a participant", fields={"user": N_("not a participant")})
    incident.participants.remove(row)
    return record_change(
        session, actor, incident, IncidentAction.PARTICIPANT, {"removed": user.email}, clock=clock
    )


def _join(incident: Incident, user_id: int | None, actor: Actor, *, clock: Clock) -> None:
    if user_id is None or any(p.user_id == user_id for p in incident.participants):
        return
    incident.participants.append(
        IncidentParticipant(user_id=user_id, added_by_id=actor.user_id, added_at=clock.now())
    )


def record_change(
    session: Session,
    actor: Actor,
    incident: Incident,
    action: IncidentAction,
    data: Mapping[str, Any],
    *,
    clock: Clock,
) -> IncidentEvent:
    """An internal timeline event of ``action.kind`` and its audit row (``action``)."""
    incident.updated_at = clock.now()
    event = add_event(session, incident, actor, action.kind, clock=clock, data=data)
    session.flush()
    audit.record(session, actor, action, "incident", incident.reference, clock=clock, after=data)
    return event


def user_by_email(session: Session, email: str | None, field: str = "assignee") -> User | None:
    """The user with this e-mail (``None`` for ``None``); ``ValidationFailed`` naming ``field``
    when there is none (adapters turn an e-mail from a form or API body into a user)."""
    if email is None or not email.strip():
        return None
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ValidationFailed(
            f"unknown {field}", fields={field: N_("no user %(email)s", email=email)}
        )
    return user
