"""Accounts use cases (kernel): organisations, users, passwords and API tokens.

Plain functions taking a ``Session``; they validate, change state, flush and audit. The caller
commits. Passwords are Argon2id hashes; API tokens are stored as SHA-256 digests only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth import hashing, login_guard, sessions
from core.auth.devices import DeviceCookies
from core.auth.passwords import MIN_LENGTH, WRONG_CURRENT, check_password
from core.clock import Clock
from core.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from core.identity.authz import Actor, at_least, require
from core.identity.models import (
    ApiToken,
    Organisation,
    OrganisationKind,
    Role,
    User,
    UserSession,
)

LOCALES = ("fr", "en", "ar")
TOKEN_PREFIX = "vig_"  # noqa: S105 (a marker, not a secret)
MIN_PASSWORD_LENGTH = MIN_LENGTH


# ---------------------------------------------------------------- users
def normalise_email(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed("invalid e-mail address", fields={"email": str(exc)}) from None


def check_password_strength(
    password: str, *, email: str | None = None, name: str | None = None, field: str = "password"
) -> None:
    """The password policy (:mod:`core.auth.passwords`): ``ValidationFailed`` naming ``field``."""
    check_password(password, email=email, name=name, field=field)


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: str,
    organisation: Organisation,
    password: str | None,
    locale: str = "fr",
    clock: Clock,
) -> User:
    require(actor, Role.ADMIN, "creating a user")
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not name.strip():
        errors["name"] = "must not be empty"
    if role not in set(Role):
        errors["role"] = f"must be one of {', '.join(Role)}"
    elif role != Role.REPORTER and organisation.kind != OrganisationKind.CERT:
        errors["role"] = f"{role} accounts belong to the CERT, not to {organisation.slug}"
    if locale not in LOCALES:
        errors["locale"] = f"must be one of {', '.join(LOCALES)}"
    if password is not None:
        try:
            check_password_strength(password, email=email, name=name)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed("invalid user", fields=errors)
    if find_user(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists", fields={"email": "taken"})
    now = clock.now()
    user = User(
        email=email,
        name=name.strip(),
        role=Role(role),
        organisation_id=organisation.id,
        organisation=organisation,
        password_hash=hashing.hash_password(password) if password else None,
        locale=locale,
        is_active=True,
        session_nonce=secrets.token_hex(16),
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.USER_CREATE,
        "user",
        user.id,
        clock=clock,
        after={"email": email, "role": role, "organisation": organisation.slug},
    )
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_user_by_email(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user with e-mail {email!r}", fields={"email": "unknown user"})
    return user


def set_password(
    session: Session,
    actor: Actor,
    user: User,
    password: str,
    *,
    clock: Clock,
    keep: UserSession | None = None,
    field: str = "password",
) -> None:
    """Change a password; every open web session of the user ends, but ``keep`` (the session of
    a user changing their own password)."""
    if actor.user_id != user.id:
        require(actor, Role.ADMIN, "changing another user's password")
    check_password_strength(password, email=user.email, name=user.name, field=field)
    user.password_hash = hashing.hash_password(password)
    if keep is None:  # the nonce is in every session's key: rotating it ends them all
        user.session_nonce = secrets.token_hex(16)
    user.updated_at = clock.now()
    audit.record(session, actor, AccountAction.USER_PASSWORD, "user", user.id, clock=clock)
    sessions.end_user_sessions(
        session, actor, user, reason=sessions.EndReason.PASSWORD, clock=clock, keep=keep
    )


def change_own_password(
    session: Session,
    actor: Actor,
    user: User,
    *,
    current: str,
    new: str,
    keep: UserSession | None,
    clock: Clock,
) -> None:
    """The user's own change: the current password first (a failure is audited), then the
    policy; the user's other sessions end, ``keep`` (this one) stays open."""
    if actor.user_id != user.id:
        raise PermissionDenied("only the user changes their own password this way")
    if not _verify(user, current):
        audit.record(
            session, actor, AccountAction.USER_PASSWORD_FAILED, "user", user.id, clock=clock
        )
        raise ValidationFailed(
            "current password incorrect", fields={"current_password": WRONG_CURRENT}
        )
    set_password(session, actor, user, new, clock=clock, keep=keep, field="new_password")


def set_active(session: Session, actor: Actor, user: User, active: bool, *, clock: Clock) -> None:
    require(actor, Role.ADMIN, "activating or deactivating a user")
    before = user.is_active
    user.is_active = active
    user.session_nonce = secrets.token_hex(16)
    user.updated_at = clock.now()
    audit.record(
        session,
        actor,
        AccountAction.USER_ACTIVATE if active else AccountAction.USER_DEACTIVATE,
        "user",
        user.id,
        clock=clock,
        before={"is_active": before},
        after={"is_active": active},
    )
    if not active:
        sessions.end_user_sessions(
            session, actor, user, reason=sessions.EndReason.DEACTIVATED, clock=clock
        )


def end_all_sessions(session: Session, actor: Actor, user: User, *, clock: Clock) -> int:
    """An administrator ends every open web session of ``user`` (audited); the count."""
    require(actor, Role.ADMIN, "ending another user's sessions")
    user.session_nonce = secrets.token_hex(16)
    return sessions.end_user_sessions(
        session, actor, user, reason=sessions.EndReason.ENDED_BY_ADMIN, clock=clock
    )


def set_locale(session: Session, actor: Actor, user: User, locale: str, *, clock: Clock) -> None:
    """Change a user's interface and e-mail language (fr, en or ar)."""
    if actor.user_id != user.id:
        require(actor, Role.ADMIN, "changing another user's language")
    if locale not in LOCALES:
        raise ValidationFailed(
            "invalid locale", fields={"locale": f"must be one of {', '.join(LOCALES)}"}
        )
    if locale == user.locale:
        return
    before = user.locale
    user.locale = locale
    user.updated_at = clock.now()
    audit.record(
        session,
        actor,
        AccountAction.USER_LOCALE,
        "user",
        user.id,
        clock=clock,
        before={"locale": before},
        after={"locale": locale},
    )


def _verify(user: User | None, password: str) -> bool:
    """Argon2 check; an unknown user is checked against a dummy hash (the same time)."""
    return hashing.verify(user.password_hash if user else None, password)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str | None,
    clock: Clock,
    devices: DeviceCookies | None = None,
    device_cookie: str | None = None,
) -> User:
    """Check a login. Failures are audited and indistinguishable to the caller.

    The per-account throttle (:mod:`core.auth.throttle`) is keyed on the submitted address,
    known or not; while it runs, even the right password is refused, except from a browser
    whose device cookie (:mod:`core.auth.devices`) is valid for this account: its failures count
    on its own. The password is checked in every case, so that the answer takes the same time.
    """
    user = find_user(session, email)
    ok = _verify(user, password)
    attempt = login_guard.Attempt(
        session, email, user, ip=ip, cookies=devices, device_cookie=device_cookie, clock=clock
    )
    attempt.refuse_while_throttled()
    if user is None or not user.is_active or not user.password_hash or not ok:
        raise attempt.fail()
    attempt.succeed()
    if hashing.needs_rehash(user.password_hash):
        user.password_hash = hashing.hash_password(password)
    user.last_login_at = attempt.now
    audit.record(
        session,
        Actor.for_user(user, ip=ip),
        AccountAction.LOGIN,
        "user",
        user.id,
        clock=clock,
        after=attempt.trusted,
    )
    return user


# ---------------------------------------------------------------- API tokens
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
