"""The analyst's workflow on one incident: its status (Flask-free use case; the adapters load the
incident with ``get_incident``). Assignment and participants are in
:mod:`incidents.workspace.assignment`, priority, classification and markings in
:mod:`incidents.workspace.triage`, what they share in :mod:`incidents.workspace.changes`; they
are re-exported here, where the pages, the API, the playbook actions and the tests call them.

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
from core.errors import InvalidTransition, Message, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import User
from incidents import events
from incidents.access import visible
from incidents.actions import IncidentAction
from incidents.events import IncidentEventName
from incidents.intake.service import add_event
from incidents.models import (
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentStatus,
)
from incidents.rules import labels
from incidents.settings import IntakeSettings
from incidents.signals import (
    incident_closed,
    incident_status_changed,
)
from incidents.workspace.assignment import add_participant as add_participant
from incidents.workspace.assignment import assign as assign
from incidents.workspace.assignment import remove_participant as remove_participant
from incidents.workspace.changes import MAX_REASON, check_staff
from incidents.workspace.changes import record_change as record_change
from incidents.workspace.changes import require_staff as require_staff
from incidents.workspace.changes import require_work as require_work
from incidents.workspace.changes import text_field as text_field
from incidents.workspace.changes import user_by_email as user_by_email
from incidents.workspace.mail import queue_closing, recipient_of
from incidents.workspace.triage import reclassify as reclassify
from incidents.workspace.triage import set_markings as set_markings
from incidents.workspace.triage import set_priority as set_priority

_T = TypeVar("_T")
MAX_SUMMARY = 20_000
# statuses that end the handling of a report without resolving it: their reason is required and
# shown to the reporter (the status page, the status e-mail); "duplicate" also names the original
PUBLIC_REASON = frozenset({IncidentStatus.REJECTED, IncidentStatus.DUPLICATE})


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
    require_work(actor, incident, "changing the status")
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
        check_staff("assignee", assignee)
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
