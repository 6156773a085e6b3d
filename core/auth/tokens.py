"""API tokens (kernel): bearer tokens of users, stored as SHA-256 digests only.

A token is shown once, when it is created; its first characters (``prefix``) tell tokens apart
in lists. A token works while it is not revoked and its user is active. Users manage their own
(account page); administrators list and revoke anyone's (``/admin/users/<id>``, ``cert tokens``).

Tokens stay single-factor by design: they are issued to a signed-in user (who proved a second
factor when their role requires one, :func:`require_proven_session`) and carry a
:class:`TokenScope`: ``read`` tokens may only read (``GET``, ``HEAD``, ``OPTIONS``; the API and the
TAXII server answer anything else with 403, :func:`allows`), ``write`` tokens may do whatever
their user may. Tokens made before scopes existed are ``write`` (the column's server default).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.clock import Clock
from core.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor, at_least, require
from core.identity.models import ApiToken, Role, User

TOKEN_PREFIX = "vig_"  # noqa: S105 (a marker, not a secret)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # what a read-only token may send
READ_ONLY_MESSAGE = "this API token is read-only"
# How a web session must have been proven to issue tokens when the role requires a second
# factor: a TOTP code, a recovery code, or the identity provider's sign-in (the values of
# core.auth.mfa.Method, a module above this one in the kernel's layers; a test keeps them equal).
SECOND_FACTOR_METHODS = frozenset({"totp", "recovery", "sso"})


class TokenScope(enum.StrEnum):
    """What a token may do (``api_tokens.scope``)."""

    READ = "read"  # GET, HEAD and OPTIONS only
    WRITE = "write"  # whatever its user may


def allows(scope: str, method: str) -> bool:
    """Whether a token of ``scope`` may send a request of HTTP ``method``."""
    return scope == TokenScope.WRITE or method.upper() in SAFE_METHODS


def require_proven_session(user: User, auth_method: str | None, mfa_roles: frozenset[str]) -> None:
    """Refuse (``PermissionDenied``) to issue a token in a web session signed in without a second
    factor when ``user``'s role requires one (``CERT_MFA_REQUIRED_ROLES``): a token must not
    outlive a weaker sign-in than the one its user is held to."""
    if user.role.value in mfa_roles and auth_method not in SECOND_FACTOR_METHODS:
        raise PermissionDenied(
            "API tokens are issued to sessions signed in with a second factor; "
            "sign out and sign in again with your authentication code"
        )


def _scope(value: str) -> TokenScope:
    try:
        return TokenScope(value)
    except ValueError:
        raise ValidationFailed(
            "invalid token scope", fields={"scope": "must be read or write"}
        ) from None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    actor: Actor,
    user: User,
    *,
    label: str,
    clock: Clock,
    scope: str = TokenScope.WRITE,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the token, which is never stored.

    ``scope``: ``read`` or ``write`` (:class:`TokenScope`; anything else is a ``ValidationFailed``
    naming ``scope``). The kernel's default is ``write``, as for the tokens made before scopes;
    the account page offers ``read`` first.
    """
    if actor.user_id != user.id:
        require(actor, Role.ADMIN, "creating a token for another user")
    chosen = _scope(scope)
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
        scope=chosen.value,
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
        after={"user": user.email, "label": label, "prefix": token.prefix, "scope": chosen.value},
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


def authenticate_token(session: Session, presented: str, *, clock: Clock) -> ApiToken:
    """Resolve a bearer token to its row (its active ``user`` already loaded, its ``scope`` for
    the caller to enforce with :func:`allows`) and stamp ``last_used_at``; one query.

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
    return token


def all_tokens_query(*, active_only: bool = False) -> Select[ApiToken]:
    """Every user's tokens, newest first (the administrators' list), or only the working ones."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if active_only:
        query = query.where(ApiToken.revoked_at.is_(None), ApiToken.user.has(is_active=True))
    return query
