"""Transferring an incident to another vigilance centre (Flask-free use case).

An analyst who works an incident (:func:`incidents.access.can_work`: its centre's members, a
``work`` share's, the assignee and participants, leads) moves it to another centre with a
reason. The incident's ``centre_id`` changes; its shares stay, except a share with the new centre,
now redundant (removed). The timeline gets an internal ``transferred`` event
``{"from": slug, "to": slug, "reason": …}`` (never shown to reporters), the audit log an
``incident.transfer`` row, and the durable event ``incident.transferred`` (ids only) lets the
new centre be told (its on-duty analyst).

Checks come before any write: a centre that does not exist, the incident's own centre, an empty,
too long or NUL-bearing reason are ``ValidationFailed`` naming the field (``centre``,
``reason``); an actor who may not work the incident gets ``PermissionDenied``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, inputs
from core.clock import Clock
from core.errors import PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.centres import Centre
from incidents import events
from incidents.access import can_work
from incidents.actions import IncidentAction
from incidents.events import IncidentEventName
from incidents.intake.service import add_event
from incidents.models import Incident, IncidentEvent

MAX_REASON = 2_000
MAX_SLUG = 64


def require_work(actor: Actor, incident: Incident) -> None:
    """CERT staff who may work ``incident`` (not through a read-only share); else 403."""
    if not can_work(actor, incident):
        raise PermissionDenied(N_("you may not work this incident"))


def reason_field(value: str | None, *, required: bool = True) -> str | None:
    """The reason, stripped: required (unless not), at most :data:`MAX_REASON` characters, no
    NUL; ``ValidationFailed`` naming ``reason``."""
    text = (value or "").strip()
    if inputs.NUL in text:
        raise ValidationFailed("reason has NUL", fields={"reason": inputs.NUL_MESSAGE})
    if not text:
        if required:
            raise ValidationFailed("reason required", fields={"reason": N_("required")})
        return None
    if len(text) > MAX_REASON:
        too_long = N_("at most %(limit)d characters", limit=MAX_REASON)
        raise ValidationFailed("reason too long", fields={"reason": too_long})
    return text


def centre_field(session: Session, slug: str | Centre | None) -> Centre:
    """The centre named by ``slug`` (case-insensitive), else ``ValidationFailed`` naming
    ``centre`` (an unknown centre is an input error here, not a missing page)."""
    if isinstance(slug, Centre):
        return slug
    text = (slug or "").strip().lower()
    if not text:
        raise ValidationFailed("centre required", fields={"centre": N_("required")})
    found = None
    if len(text) <= MAX_SLUG and inputs.NUL not in text:
        found = session.scalar(select(Centre).where(Centre.slug == text))
    if found is None:
        raise ValidationFailed("unknown centre", fields={"centre": N_("no such centre")})
    return found


def checked(
    session: Session,
    incident: Incident,
    centre: str | Centre | None,
    reason: str | None,
    *,
    same: str,
    reason_required: bool = True,
) -> tuple[Centre, str | None]:
    """The centre and the reason, every invalid one named in one ``ValidationFailed``; the
    incident's own centre is refused with ``same``."""
    errors: dict[str, str] = {}
    target: Centre | None = None
    why: str | None = None
    try:
        target = centre_field(session, centre)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    else:
        if target.id == incident.centre_id:
            errors["centre"] = same
    try:
        why = reason_field(reason, required=reason_required)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors or target is None:
        raise ValidationFailed("invalid " + " and ".join(sorted(errors)), fields=errors)
    return target, why


def transfer(
    session: Session,
    actor: Actor,
    incident: Incident,
    centre: str | Centre | None,
    reason: str | None,
    *,
    clock: Clock,
) -> IncidentEvent:
    """Move ``incident`` to ``centre`` (a :class:`Centre` or its slug) for ``reason``."""
    require_work(actor, incident)
    same = N_("the incident is already in this centre")
    target, why = checked(session, incident, centre, reason, same=same)
    old = incident.centre
    redundant = [s for s in incident.shares if s.centre_id == target.id]
    for share in redundant:
        incident.shares.remove(share)
    incident.centre_id, incident.centre = target.id, target
    incident.updated_at = clock.now()
    data = {"from": old.slug, "to": target.slug, "reason": why}
    return recorded(
        session,
        actor,
        incident,
        "transferred",
        data,
        action=IncidentAction.TRANSFER,
        before={"centre": old.slug},
        after={**data, "unshared": [target.slug] if redundant else []},
        name=IncidentEventName.TRANSFERRED,
        payload=lambda event_id: events.Transferred(
            incident_id=incident.id,
            reference=incident.reference,
            timeline_event_id=event_id,
            from_centre_id=old.id,
            to_centre_id=target.id,
        ),
        clock=clock,
    )


def recorded(
    session: Session,
    actor: Actor,
    incident: Incident,
    kind: str,
    data: dict[str, Any],
    *,
    action: IncidentAction,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    name: IncidentEventName,
    payload: Callable[[int], events.TimelinePayload],
    clock: Clock,
) -> IncidentEvent:
    """A centre change written down (transfer, share, unshare): the timeline event ``kind``
    with ``data``, the audit entry ``action`` and the domain event ``name`` (``payload`` of the
    timeline event's id); the timeline event."""
    event = add_event(session, incident, actor, kind, clock=clock, data=data)
    session.flush()
    audit.record(
        session,
        actor,
        action,
        "incident",
        incident.reference,
        clock=clock,
        before=before,
        after=after,
    )
    events.record(session, actor, incident, name, payload(event.id), clock=clock)
    return event
