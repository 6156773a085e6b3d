"""Links to set a password (kernel, Flask-free).

An administrator sends one (a new account created without a password: an invitation; a
forgotten password), or a user asks for one on the sign-in page ("forgot my password"). The link
``<CERT_BASE_URL>/password/reset/<token>`` works once, for ``CERT_PASSWORD_RESET_HOURS``; only the
token's SHA-256 is stored (:class:`~core.identity.models.PasswordReset`). It is e-mailed through
the outbox in the user's language, sealed with a key derived from ``CERT_SECRET_KEY``
(:mod:`core.sealing`): the link is never stored in clear, and its sealed copy is dropped once
the mail is sent. Sending a link deletes the user's older ones; using it sets
the password (the policy of :mod:`core.auth.passwords`), ends every web session of the user,
clears the sign-in throttle of the address and deletes the user's links.

Unknown, expired, used and malformed tokens, and the links of deactivated users, are alike
(``None`` / :class:`InvalidLink`); a request for an unknown address is answered like one for a
known one by the pages (:func:`request_link` says which only to its caller).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth import mfa, throttle
from core.auth.services import check_password_strength, find_user, normalise_email, set_password
from core.clock import Clock
from core.errors import AuthenticationFailed, NotFound, ValidationFailed
from core.i18n import N_, normalise_locale
from core.identity.authz import Actor, require
from core.identity.models import PasswordReset, Role, User
from core.mail import domain_of, insert_template_mail
from core.sealing import Sealer

RESET_PATH = "/password/reset/"  # the page (cert.accounts.reset) is registered under it
TEMPLATE = "core:auth/email/password_reset"
INVITE, RESET = "invite", "reset"
REQUEST_INTERVAL = dt.timedelta(minutes=5)  # self-service: one link per account this often
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
_BY_DIGEST = select(PasswordReset).where(PasswordReset.token_hash == bindparam("digest"))

INACTIVE = N_("the account is deactivated: activate it first")
CODE_MISSING = N_("type the code of your authenticator application, or a recovery code")
CODE_WRONG = N_("this code is not right, or was already used")
CODE_THROTTLED = N_("too many wrong codes: wait a few minutes, then try again")


class InvalidLink(NotFound):
    """The token is unknown, expired, used or malformed, or its user is deactivated."""


class _Settings(Protocol):
    """The settings a link is made from (:class:`core.config.Config` has them)."""

    @property
    def base_url(self) -> str: ...
    @property
    def password_reset_hours(self) -> int: ...
    @property
    def timezone(self) -> str: ...
    @property
    def mail_from(self) -> str: ...
    @property
    def secret_key(self) -> str: ...


@dataclass(frozen=True)
class LinkSettings:
    """What a link needs from the configuration."""

    base_url: str
    hours: int
    timezone: str
    mail_domain: str
    secret_key: str  # seals the mail that carries the link

    @classmethod
    def of(cls, config: _Settings) -> LinkSettings:
        return cls(
            base_url=config.base_url,
            hours=config.password_reset_hours,
            timezone=config.timezone,
            mail_domain=domain_of(config.mail_from),
            secret_key=config.secret_key,
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_link(
    session: Session, actor: Actor, user: User, *, settings: LinkSettings, clock: Clock
) -> PasswordReset:
    """An administrator e-mails ``user`` a link to set their password: an invitation when the
    account has no password yet, else a reset. The current password keeps working until the
    link is used."""
    require(actor, Role.ADMIN, "sending a link to set a password")
    if not user.is_active:
        raise ValidationFailed("the user is deactivated", fields={"user": INACTIVE})
    return _issue(session, actor, user, settings, clock)


def request_link(
    session: Session, email: str, *, ip: str | None, settings: LinkSettings, clock: Clock
) -> bool:
    """ "Forgot my password": a link for the active account with this address, unless one was
    sent less than :data:`REQUEST_INTERVAL` ago. Audited either way, under the address typed;
    whether a link was sent (the page must not say)."""
    try:
        address = normalise_email(email)
    except ValidationFailed:
        address = email.strip().lower()
    user = find_user(session, address) if "@" in address else None
    now = clock.now()
    recent = select(PasswordReset.id).where(
        PasswordReset.user_id == (user.id if user else -1),
        PasswordReset.created_at > now - REQUEST_INTERVAL,
    )
    # an account that signs in at the identity provider only (CERT_OIDC_LOCAL_PASSWORDS=0) gets
    # no link: the password it would set is refused
    wanted = user is not None and user.is_active and user.password_login
    sent = wanted and session.scalar(recent.limit(1)) is None
    requester = Actor(None, address[:254] or "-", None, None, ip)
    audit.record(
        session,
        requester,
        AccountAction.USER_RESET_REQUEST,
        "user",
        user.id if user else "-",
        clock=clock,
        after={"sent": sent},
    )
    if sent and user is not None:
        _issue(session, requester, user, settings, clock)
    return sent


def _issue(
    session: Session, actor: Actor, user: User, settings: LinkSettings, clock: Clock
) -> PasswordReset:
    now = clock.now()
    stale = or_(PasswordReset.user_id == user.id, PasswordReset.expires_at <= now)
    session.execute(delete(PasswordReset).where(stale).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    row = PasswordReset(
        user_id=user.id,
        user=user,
        token_hash=_digest(token),
        purpose=RESET if user.password_hash else INVITE,
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.hours),
    )
    session.add(row)
    session.flush()
    language = normalise_locale(user.locale)
    city = get_timezone_location(ZoneInfo(settings.timezone), locale=language, return_city=True)
    context = {
        "recipient_name": user.name,
        "email": user.email,
        "invite": row.purpose == INVITE,
        "link": f"{settings.base_url}{RESET_PATH}{token}",
        "site": settings.base_url,
        "hours": settings.hours,
        "expires_at": row.expires_at.isoformat(),
        "timezone": settings.timezone,
        "city": city,  # of the zone, named in the recipient's language
    }
    insert_template_mail(
        session,
        to=user.email,
        template=TEMPLATE,
        context=context,
        language=language,
        related=("user", user.id),
        clock=clock,
        mail_domain=settings.mail_domain,
        sealer=Sealer(settings.secret_key),
    )
    audit.record(
        session,
        actor,
        AccountAction.USER_RESET_LINK,
        "user",
        user.id,
        clock=clock,
        after={"purpose": row.purpose, "expires_at": row.expires_at},
    )
    return row


def find_link(session: Session, token: str, *, clock: Clock) -> PasswordReset | None:
    """The link of ``token`` while it can be used, else ``None``."""
    if not _TOKEN.match(token):
        return None
    digest = _digest(token)
    row = session.scalar(_BY_DIGEST, {"digest": digest})
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.expires_at <= clock.now() or not row.user.is_active:
        return None
    return row


class CodeRefused(ValidationFailed):
    """The second-factor code of a reset is missing, wrong, replayed or throttled (``code``):
    the failure is audited and counted, so the caller commits; nothing else was written."""


def asks_code(link: PasswordReset) -> bool:
    """A reset (not an invitation) of a user enrolled in two-factor sign-in asks for a code:
    whoever reads the mailbox still needs the phone (or a recovery code)."""
    return link.purpose == RESET and link.user.mfa_enrolled


def use_link(
    session: Session,
    token: str,
    password: str,
    *,
    ip: str | None,
    clock: Clock,
    code: str | None = None,
    seal: Sealer | None = None,
) -> User:
    """Set the password through a link, once: ``InvalidLink`` when it cannot be used,
    ``ValidationFailed`` (``new_password``) when the password is refused — the link then still
    works — and :class:`CodeRefused` when the link :func:`asks_code` and ``code`` (a code of the
    user's authenticator or a recovery code, checked with ``seal``) is not right. Every web
    session of the user ends."""
    row = find_link(session, token, clock=clock)
    if row is None:
        raise InvalidLink("invalid or expired link")
    user = row.user
    check_password_strength(password, email=user.email, name=user.name, field="new_password")
    if asks_code(row):
        _check_code(session, user, code or "", seal=seal, ip=ip, clock=clock)
    claimed = session.execute(
        delete(PasswordReset)
        .where(PasswordReset.id == row.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # used at the same moment by another request
        raise InvalidLink("invalid or expired link")
    session.expunge(row)
    session.execute(
        delete(PasswordReset)
        .where(PasswordReset.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    actor = Actor.for_user(user, ip=ip)
    set_password(
        session,
        actor,
        user,
        password,
        clock=clock,
        field="new_password",
        action=AccountAction.USER_PASSWORD_RESET,
    )
    throttle.clear(session, user.email)  # the owner of the mailbox may sign in at once
    return user


def _check_code(
    session: Session, user: User, code: str, *, seal: Sealer | None, ip: str | None, clock: Clock
) -> None:
    if not code.strip() or seal is None:
        raise CodeRefused("code missing", fields={"code": CODE_MISSING})
    try:
        mfa.check_code(session, user, code, seal=seal, ip=ip, clock=clock)
    except mfa.MfaThrottled:
        raise CodeRefused("throttled", fields={"code": CODE_THROTTLED}) from None
    except AuthenticationFailed:
        raise CodeRefused("wrong code", fields={"code": CODE_WRONG}) from None


def purge(session: Session, *, now: dt.datetime) -> int:
    """Delete the links that have expired (the scheduler's ``auth.purge_sessions``)."""
    result = session.execute(
        delete(PasswordReset)
        .where(PasswordReset.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
