"""Server-side web sessions (kernel: Flask-free).

A sign-in creates a :class:`~core.identity.models.UserSession` row and a random session id; the
browser's signed cookie carries the id, the table only its SHA-256. A session is good while its
row is not ended, was seen less than ``idle`` ago and was created less than ``max_age`` ago.
``last_seen_at`` is written at most once a minute, so that reading pages stays read-only.
Logout, a password change, a deactivation, a reset of the second factor and the user (account
page) end rows; ended and expired rows are purged by the scheduler job ``auth.purge_sessions``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.clock import Clock
from core.errors import NotFound
from core.identity.authz import Actor
from core.identity.models import User, UserSession

TOUCH_INTERVAL = dt.timedelta(seconds=60)
USER_AGENT_LENGTH = 200


class EndReason:
    LOGOUT = "logout"
    IDLE = "idle"  # no request for longer than the idle timeout
    EXPIRED = "expired"  # older than the absolute lifetime
    ENDED_BY_USER = "ended_by_user"  # from the account page, on another device
    PASSWORD = "password"  # noqa: S105 (a reason: the password changed)
    DEACTIVATED = "deactivated"
    ENDED_BY_ADMIN = "ended_by_admin"
    MFA_RESET = "mfa_reset"  # an administrator removed the user's second factor


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta
    max_age: dt.timedelta

    @classmethod
    def of(cls, *, idle_minutes: int, max_hours: int) -> SessionPolicy:
        return cls(dt.timedelta(minutes=idle_minutes), dt.timedelta(hours=max_hours))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    db: Session,
    user: User,
    *,
    ip: str | None,
    user_agent: str | None,
    clock: Clock,
    auth_method: str | None = None,
) -> tuple[UserSession, str]:
    """A new open session for ``user``; returns the row and the session id (never stored).
    ``auth_method``: how the sign-in was proven (``core.auth.mfa.Method``)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = UserSession(
        user_id=user.id,
        user=user,
        token_hash=_digest(token),
        created_at=now,
        last_seen_at=now,
        client_address=(ip or None) and ip[:45],
        user_agent=(user_agent or "").strip()[:USER_AGENT_LENGTH] or None,
        auth_method=auth_method,
    )
    db.add(row)
    db.flush()
    return row, token


_BY_DIGEST = select(UserSession).where(UserSession.token_hash == bindparam("digest"))


def resolve_session(
    db: Session, token: str, *, policy: SessionPolicy, clock: Clock
) -> UserSession | None:
    """The open session with this id, or ``None``. A session found past its idle timeout or its
    lifetime is ended on the way; ``last_seen_at`` is refreshed when a minute has passed. The
    caller commits when the session is dirty."""
    digest = _digest(token)
    row = db.scalar(_BY_DIGEST, {"digest": digest})
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.ended_at is not None:
        return None
    now = clock.now()
    if now - row.created_at >= policy.max_age:
        _end(row, EndReason.EXPIRED, now)
        return None
    if now - row.last_seen_at >= policy.idle:
        _end(row, EndReason.IDLE, now)
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return row


def _end(row: UserSession, reason: str, now: dt.datetime) -> None:
    row.ended_at = now
    row.ended_reason = reason


def _open(user: User, policy: SessionPolicy, now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a user's open sessions."""
    return (
        UserSession.user_id == user.id,
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at > now - policy.idle,
        UserSession.created_at > now - policy.max_age,
    )


def open_sessions(
    db: Session, user: User, *, policy: SessionPolicy, clock: Clock
) -> list[UserSession]:
    """The user's open sessions, most recently seen first."""
    query = (
        select(UserSession)
        .where(*_open(user, policy, clock.now()))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return list(db.scalars(query))


def end_session(db: Session, actor: Actor, row: UserSession, *, reason: str, clock: Clock) -> None:
    """End one session (logout, or the user ending another of their sessions); audited."""
    if row.ended_at is not None:
        return
    _end(row, reason, clock.now())
    action = AccountAction.LOGOUT if reason == EndReason.LOGOUT else AccountAction.SESSION_END
    audit.record(
        db,
        actor,
        action,
        "user",
        row.user_id,
        clock=clock,
        after={"session": row.id, "address": row.client_address, "reason": reason},
    )


def end_user_sessions(
    db: Session,
    actor: Actor,
    user: User,
    *,
    reason: str,
    clock: Clock,
    keep: UserSession | None = None,
) -> int:
    """End every open session of ``user`` but ``keep``; audited when any ended. The count."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    now = clock.now()
    result = db.execute(
        query.values(ended_at=now, ended_reason=reason).execution_options(
            synchronize_session="fetch"
        )
    )
    ended = int(getattr(result, "rowcount", 0) or 0)
    if ended:
        audit.record(
            db,
            actor,
            AccountAction.SESSIONS_END,
            "user",
            user.id,
            clock=clock,
            after={"sessions": ended, "reason": reason, "kept": keep.id if keep else None},
        )
    return ended


def access_own_session(db: Session, user: User, session_id: int) -> UserSession:
    """One of the user's sessions, still open; ``NotFound`` for anyone else's (or an ended one)."""
    row = db.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        raise NotFound("session not found")
    return row


def purge_sessions(db: Session, *, policy: SessionPolicy, now: dt.datetime) -> int:
    """Delete the sessions that can no longer be used (ended, idle or past their lifetime); their
    history stays in the audit log."""
    result = db.execute(
        delete(UserSession)
        .where(
            or_(
                UserSession.ended_at.is_not(None),
                UserSession.last_seen_at <= now - policy.idle,
                UserSession.created_at <= now - policy.max_age,
            )
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
