"""Managing a second factor after enrolment (kernel: Flask-free).

* An administrator (or ``cert users mfa-reset``) **resets** a user's second factor, when the
  phone is lost: the secret and the recovery codes are forgotten (:func:`core.auth.mfa.remove`),
  every web session of the user ends (the session nonce changes, so that no cookie survives),
  and the user is e-mailed in their language; at their next sign-in a role that requires a
  second factor enrols again. Nothing else is revoked (API tokens, password links). An
  administrator does not reset their own (someone holding their session would otherwise trade
  the second factor for the password alone): another administrator, or the CLI, does it.
  An account with nothing to reset (neither enrolled nor enrolling) is left as it is: no
  session ends, no e-mail goes (the caller says so).
* The user **turns it off** themselves only when their role does not require it
  (``CERT_MFA_REQUIRED_ROLES``), with a current code; and asks for **new recovery codes** with a
  current code. A wrong code is counted and audited by :func:`core.auth.mfa.check_code`: the
  caller commits even when refused.
* :func:`mfa_events`: the account's recent security events, for its page.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AccountAction, AuditEntry
from core.auth import mfa, sessions
from core.clock import Clock
from core.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from core.i18n import N_, normalise_locale
from core.identity.authz import Actor, require
from core.identity.models import Role, User
from core.mail import domain_of, insert_template_mail
from core.sealing import Sealer

TEMPLATE = "core:auth/email/mfa_reset"
OWN_RESET = N_(
    "You cannot reset your own two-factor sign-in: ask another administrator, or turn it off "
    "from your account page when your role allows it."
)
NOT_ENROLLED = N_("Two-factor sign-in is not set up for this account.")
REQUIRED_BY_ROLE = N_("Your role requires two-factor sign-in: it cannot be turned off.")
WRONG_CODE = N_("This code is not valid: type the current code of your application.")
THROTTLED = N_("Too many wrong codes: wait a few minutes, then try again.")

EVENT_ACTIONS = (
    *mfa.MFA_ACTIONS,
    AccountAction.SSO_LOGIN,
    AccountAction.SSO_LINK,
    AccountAction.LOGIN,
)
"""The audit actions the account page lists as security events."""


class _Settings(Protocol):
    @property
    def base_url(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def mail_from(self) -> str: ...
    @property
    def mfa_roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class NoticeSettings:
    """What the e-mail telling a user of a reset needs from the configuration."""

    base_url: str
    timezone: str
    mail_domain: str
    mfa_roles: frozenset[str]  # the e-mail says whether the user must enrol again

    @classmethod
    def of(cls, config: _Settings) -> NoticeSettings:
        return cls(config.base_url, config.timezone, domain_of(config.mail_from), config.mfa_roles)


@dataclass(frozen=True)
class ResetOutcome:
    """What a reset did: whether there was a second factor (enrolled or being enrolled), how
    many sessions ended, the id of the queued e-mail."""

    had: bool
    sessions_ended: int
    mail_id: int | None


def reset_second_factor(
    db: Session, actor: Actor, user: User, *, settings: NoticeSettings, clock: Clock
) -> ResetOutcome:
    """An administrator removes ``user``'s second factor, ends their sessions and e-mails them
    (audited: ``mfa.reset``, ``auth.sessions_end``). The caller commits."""
    require(actor, Role.ADMIN, "resetting a user's second factor")
    if actor.user_id is not None and actor.user_id == user.id:
        raise ValidationFailed("cannot reset one's own second factor", fields={"user": OWN_RESET})
    if user.totp_secret is None and user.totp_pending_secret is None:
        return ResetOutcome(had=False, sessions_ended=0, mail_id=None)
    mfa.remove(db, actor, user, action=AccountAction.MFA_RESET, clock=clock)
    user.session_nonce = secrets.token_hex(16)  # in every cookie's key: none is good any more
    user.updated_at = clock.now()
    ended = sessions.end_user_sessions(
        db, actor, user, reason=sessions.EndReason.MFA_RESET, clock=clock
    )
    return ResetOutcome(had=True, sessions_ended=ended, mail_id=_tell(db, user, settings, clock))


def _tell(db: Session, user: User, settings: NoticeSettings, clock: Clock) -> int:
    """Queue the e-mail telling ``user`` that an administrator removed their second factor."""
    language = normalise_locale(user.locale)
    city = get_timezone_location(ZoneInfo(settings.timezone), locale=language, return_city=True)
    context = {
        "recipient_name": user.name,
        "email": user.email,
        "reset_at": clock.now().isoformat(),
        "timezone": settings.timezone,
        "city": city,
        "site": settings.base_url,
        "must_enrol": mfa.required(user, settings.mfa_roles),
    }
    return insert_template_mail(
        db,
        to=user.email,
        template=TEMPLATE,
        context=context,
        language=language,
        related=("user", user.id),
        clock=clock,
        mail_domain=settings.mail_domain,
    )


# ---------------------------------------------------------------- the user's own
def _prove(db: Session, actor: Actor, user: User, code: str, *, seal: Sealer, clock: Clock) -> None:
    """The user themselves, enrolled, with a current code (or an unused recovery code);
    ``ValidationFailed`` naming ``code`` otherwise."""
    if actor.user_id != user.id:
        raise PermissionDenied("only the user manages their own second factor")
    if not user.mfa_enrolled:
        raise ValidationFailed("not enrolled", fields={"code": NOT_ENROLLED})
    try:
        mfa.check_code(db, user, code, seal=seal, ip=actor.ip, clock=clock)
    except mfa.MfaThrottled:
        raise ValidationFailed("too many wrong codes", fields={"code": THROTTLED}) from None
    except AuthenticationFailed:
        raise ValidationFailed("wrong code", fields={"code": WRONG_CODE}) from None


def disable_own_second_factor(
    db: Session,
    actor: Actor,
    user: User,
    code: str,
    *,
    roles: Collection[str],
    seal: Sealer,
    clock: Clock,
) -> None:
    """The user turns two-factor sign-in off (``mfa.disable``): only when ``roles``
    (``CERT_MFA_REQUIRED_ROLES``) do not include theirs, and with a current code. Their
    sessions stay open (this one proved the code)."""
    if actor.user_id != user.id:
        raise PermissionDenied("only the user turns their own second factor off")
    if mfa.required(user, roles):
        raise ValidationFailed("required by the role", fields={"code": REQUIRED_BY_ROLE})
    _prove(db, actor, user, code, seal=seal, clock=clock)
    mfa.remove(db, actor, user, action=AccountAction.MFA_DISABLE, clock=clock)


def new_recovery_codes(
    db: Session, actor: Actor, user: User, code: str, *, seal: Sealer, clock: Clock
) -> list[str]:
    """Ten new recovery codes (the former ones stop working), with a current code."""
    _prove(db, actor, user, code, seal=seal, clock=clock)
    return mfa.regenerate_recovery_codes(db, actor, user, clock=clock)


# ---------------------------------------------------------------- reading
@dataclass(frozen=True)
class Status:
    """The second factor of an account, as its pages show it."""

    enrolled_at: dt.datetime | None
    recovery_codes_left: int
    required: bool

    @property
    def enrolled(self) -> bool:
        return self.enrolled_at is not None


def status(db: Session, user: User, *, roles: Collection[str]) -> Status:
    enrolled = user.mfa_enrolled
    return Status(
        enrolled_at=user.mfa_enrolled_at if enrolled else None,
        recovery_codes_left=mfa.remaining_recovery_codes(db, user) if enrolled else 0,
        required=mfa.required(user, roles),
    )


def mfa_events(db: Session, user: User, *, limit: int = 20) -> list[AuditEntry]:
    """The account's recent security events (second factor, single sign-on, sign-ins), newest
    first; one query on the audit log's object index."""
    query = (
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "user",
            AuditEntry.object_id == str(user.id),
            AuditEntry.action.in_([action.value for action in EVENT_ACTIONS]),
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))
