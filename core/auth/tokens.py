"""API tokens (kernel): bearer tokens of users, stored as SHA-256 digests only.

A token is shown once, when it is created; its first characters (``prefix``) tell tokens apart
in lists. A token works while it is not revoked and its user is active. Users manage their own
(account page); administrators list and revoke anyone's (``/admin/users/<id>``, ``cert tokens``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.clock import Clock
from core.errors import AuthenticationFailed, NotFound, ValidationFailed
from core.identity.authz import Actor, at_least, require
from core.identity.models import ApiToken, Role, User

TOKEN_PREFIX = "vig_"  # noqa: S105 (a marker, not a secret)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, actor: Actor, user: User, *, label: str, clock: Clock
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the token, which is never stored."""
    if actor.user_id != user.id:
        require(actor, Role.ADMIN, "creating a token for another user")
    label = label.strip() or "api"
    if len(label) > 100:
        raise ValidationFailed("label too long", fields={"label": "at most 100 characters"})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        user=user,
        label=label,
        token_hash=_digest(secret),
        prefix=secret[:12],
        created_at=clock.now(),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.TOKEN_CREATE,
        "api_token",
        token.id,
        clock=clock,
        after={"user": user.email, "label": label, "prefix": token.prefix},
    )
    return token, secret


def revoke_token(session: Session, actor: Actor, token: ApiToken, *, clock: Clock) -> None:
    if actor.user_id != token.user_id:
        require(actor, Role.ADMIN, "revoking another user's token")
    if token.revoked_at is not None:
        return
    token.revoked_at = clock.now()
    audit.record(
        session,
        actor,
        AccountAction.TOKEN_REVOKE,
        "api_token",
        token.id,
        clock=clock,
        after={"user": token.user.email, "prefix": token.prefix},
    )


def access_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """A token of the actor's own (any token for admins); ``NotFound`` otherwise."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not at_least(actor, Role.ADMIN)):
        raise NotFound("token not found")
    return token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )


TOKEN_TOUCH_INTERVAL = dt.timedelta(seconds=60)
# Built once: checked on every API request (its user and organisation are joined eagerly).
_TOKEN_BY_DIGEST = select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))


def authenticate_token(session: Session, presented: str, *, clock: Clock) -> User:
    """Resolve a bearer token to its active user and stamp ``last_used_at``.

    The stamp is refreshed at most once a minute, so that a busy client does not turn every
    request into a write (the session is only dirty when it changed).
    """
    digest = _digest(presented.strip())
    token = session.scalar(_TOKEN_BY_DIGEST, {"digest": digest})
    if token is None or not hmac.compare_digest(token.token_hash, digest) or not token.is_active:
        raise AuthenticationFailed("invalid or revoked API token")
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return token.user


def all_tokens_query(*, active_only: bool = False) -> Select[ApiToken]:
    """Every user's tokens, newest first (the administrators' list), or only the working ones."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if active_only:
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.user.has(is_active=True))
    return query
