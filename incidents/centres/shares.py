"""Sharing an incident with another vigilance centre for a joint investigation (Flask-free).

A share (:class:`~incidents.models.IncidentShare`) lets the members of another centre see the
incident (``read``) or see and work it (``work``); ``TLP:RED`` still stays with the assignee,
participants and leads (:mod:`incidents.access`). Whoever works the incident shares it (with a
reason) and takes a share back:

* :func:`share` adds the share, or changes the mode of an existing one; the incident's own
  centre is refused. Timeline: internal ``shared`` ``{"centre": slug, "mode": …, "reason": …}``;
  audit ``incident.share``; durable event ``incident.shared`` (centre id and mode: the other
  centre can be told).
* :func:`unshare` removes it. Timeline ``unshared`` ``{"centre": slug}``; audit
  ``incident.unshare``; durable event ``incident.unshared``.

A centre or mode that does not exist, an empty or too long reason are ``ValidationFailed``
naming the field, before anything is written.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.centres import Centre
from incidents import events
from incidents.actions import IncidentAction
from incidents.centres.transfer import centre_field, checked, recorded, require_work
from incidents.events import IncidentEventName
from incidents.models import Incident, IncidentEvent, IncidentShare, ShareMode


def mode_field(mode: str | None) -> ShareMode:
    """``read`` or ``work`` (a :class:`ShareMode` is one); else ``ValidationFailed`` naming
    ``mode``."""
    try:
        return ShareMode(str(mode or "").strip().lower())
    except ValueError:
        raise ValidationFailed("unknown mode", fields={"mode": N_("choose read or work")}) from None


def share(
    session: Session,
    actor: Actor,
    incident: Incident,
    centre: str | Centre | None,
    mode: str | None,
    reason: str | None,
    *,
    clock: Clock,
) -> IncidentEvent:
    """Share ``incident`` with ``centre`` in ``mode`` (or change the mode of its share)."""
    require_work(actor, incident)
    errors: dict[str, str] = {}
    chosen = ShareMode.READ
    try:
        chosen = mode_field(mode)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        same = N_("this is the incident's own centre")
        target, why = checked(session, incident, centre, reason, same=same)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={**exc.fields, **errors}) from None
    if errors:
        raise ValidationFailed("invalid mode", fields=errors)
    now = clock.now()
    existing = next((s for s in incident.shares if s.centre_id == target.id), None)
    before = {"mode": existing.mode.value} if existing else None
    if existing is None:
        incident.shares.append(
            IncidentShare(
                centre_id=target.id,
                centre=target,
                mode=chosen,
                shared_by_id=actor.user_id,
                shared_at=now,
                reason=why,
            )
        )
    else:
        existing.mode, existing.reason = chosen, why
        existing.shared_by_id, existing.shared_at = actor.user_id, now
    incident.updated_at = now
    data = {"centre": target.slug, "mode": chosen.value, "reason": why}
    return recorded(
        session,
        actor,
        incident,
        "shared",
        data,
        action=IncidentAction.SHARE,
        before=before,
        after=data,
        name=IncidentEventName.SHARED,
        payload=lambda event_id: events.Shared(
            incident_id=incident.id,
            reference=incident.reference,
            timeline_event_id=event_id,
            centre_id=target.id,
            mode=chosen,
        ),
        clock=clock,
    )


def unshare(
    session: Session,
    actor: Actor,
    incident: Incident,
    centre: str | Centre | None,
    *,
    clock: Clock,
) -> IncidentEvent:
    """Take back the share of ``incident`` with ``centre``; ``ValidationFailed`` naming
    ``centre`` when the centre does not exist or the incident is not shared with it."""
    require_work(actor, incident)
    target = centre_field(session, centre)
    existing = next((s for s in incident.shares if s.centre_id == target.id), None)
    if existing is None:
        raise ValidationFailed(
            "not shared", fields={"centre": N_("the incident is not shared with this centre")}
        )
    mode = existing.mode.value
    incident.shares.remove(existing)
    incident.updated_at = clock.now()
    data = {"centre": target.slug}
    return recorded(
        session,
        actor,
        incident,
        "unshared",
        data,
        action=IncidentAction.UNSHARE,
        before={"centre": target.slug, "mode": mode},
        after=data,
        name=IncidentEventName.UNSHARED,
        payload=lambda event_id: events.Unshared(
            incident_id=incident.id,
            reference=incident.reference,
            timeline_event_id=event_id,
            centre_id=target.id,
        ),
        clock=clock,
    )
