"""Users' notification settings (Flask-free use cases): the e-mail preference, set by each CERT
user on their account page. (The on-duty rota is per centre now: :mod:`.duty`.)"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import User
from incidents.actions import IncidentAction
from incidents.notifications.models import DEFAULT_EMAIL_MODE, EmailMode, NotificationPreference


def preference_of(session: Session, user_id: int) -> NotificationPreference | None:
    return session.get(NotificationPreference, user_id)


def email_mode(session: Session, user_id: int) -> EmailMode:
    found = preference_of(session, user_id)
    return found.email if found is not None else DEFAULT_EMAIL_MODE


def email_modes(session: Session, user_ids: Iterable[int]) -> dict[int, EmailMode]:
    """Each user's e-mail preference (the default for users without a row)."""
    ids = sorted(set(user_ids))
    rows = session.execute(
        select(NotificationPreference.user_id, NotificationPreference.email).where(
            NotificationPreference.user_id.in_(ids)
        )
    )
    found = dict(rows.all())
    return {user_id: found.get(user_id, DEFAULT_EMAIL_MODE) for user_id in ids}


def _row(session: Session, user: User, clock: Clock) -> NotificationPreference:
    row = preference_of(session, user.id)
    if row is None:
        row = NotificationPreference(
            user_id=user.id, email=DEFAULT_EMAIL_MODE, on_duty=False, updated_at=clock.now()
        )
        session.add(row)
    return row


def parse_mode(value: str | None) -> EmailMode:
    try:
        return EmailMode((value or "").strip())
    except ValueError:
        valid = ", ".join(mode.value for mode in EmailMode)
        raise ValidationFailed(
            "invalid e-mail preference", fields={"email": f"one of {valid}"}
        ) from None


def set_email_mode(
    session: Session, actor: Actor, user: User, mode: EmailMode | str, *, clock: Clock
) -> NotificationPreference:
    """A CERT user chooses how notifications reach them by e-mail (their own only; audited)."""
    if actor.user_id != user.id or not user.is_cert_staff:
        raise PermissionDenied("only CERT staff set their own notification preference")
    chosen = parse_mode(str(mode))
    row = _row(session, user, clock)
    before = row.email
    row.email, row.updated_at = chosen, clock.now()
    if chosen is EmailMode.DIGEST and before is not EmailMode.DIGEST:
        row.last_digest_at = clock.now()  # the first digest leaves at the next digest hour
    session.flush()
    audit.record(
        session,
        actor,
        IncidentAction.NOTIFICATION_PREFERENCE,
        "user",
        user.id,
        clock=clock,
        before={"email": before},
        after={"email": chosen},
    )
    return row
