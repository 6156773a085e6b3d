"""What every change of the analyst's workflow shares (Flask-free): who may act, how free text
is checked, how a change is written on the timeline with its audit row, and how a user named in
a form or API body is found. The use cases are in :mod:`incidents.workspace.workflow` (status),
:mod:`incidents.workspace.assignment` (assignee, participants) and
:mod:`incidents.workspace.triage` (priority, classification, markings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.models import Role, User
from incidents import access
from incidents.actions import IncidentAction
from incidents.intake.service import add_event
from incidents.models import Incident, IncidentEvent, IncidentParticipant

MAX_REASON = 2_000


def require_staff(actor: Actor, what: str = "this action") -> None:
    """CERT analysts and above; reporters get ``PermissionDenied``."""
    require(actor, Role.ANALYST, what)


def require_work(actor: Actor, incident: Incident, what: str = "this action") -> None:
    """The one check of every change to an incident: CERT staff (else ``PermissionDenied``) who
    work it (:func:`incidents.access.require_work`: ``NotFound`` when they may not see it,
    ``PermissionDenied`` when it is shared with their centre read-only)."""
    require_staff(actor, what)
    access.require_work(actor, incident, what)


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


def check_staff(field: str, user: User) -> None:
    if not user.is_cert_staff or not user.is_active:
        raise ValidationFailed(
            f"{field} must be CERT staff",
            fields={field: N_("%(email)s is not active CERT staff", email=user.email)},
        )


def join(incident: Incident, user_id: int | None, actor: Actor, *, clock: Clock) -> None:
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
