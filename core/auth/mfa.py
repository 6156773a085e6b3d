"""Two-factor sign-in (kernel: Flask-free): TOTP secrets, enrolment, codes and recovery codes.

A user enrols by scanning a QR code of a new secret (RFC 6238: SHA-1, six digits, 30-second
steps, as every authenticator application reads them) and typing the code it shows; the secret
is kept sealed with a key derived from ``CERT_SECRET_KEY`` (:mod:`core.sealing`), so that whoever
reads the database or a backup cannot compute codes. Enrolment gives ten single-use recovery
codes, shown once, stored as SHA-256 digests (each carries about 60 random bits, so a fast digest
is enough, as for API tokens).

A code is accepted for the current step and one step either side (clocks drift), and never twice:
``users.totp_last_step`` only moves forward, in one conditional ``UPDATE``, so that two requests
racing with the same code cannot both succeed. Wrong codes count on the per-account throttle
(:mod:`core.auth.throttle`, on a key of their own: the same waits as the password), and every
failure is audited. ``CERT_MFA_REQUIRED_ROLES`` names the roles that must enrol
(:func:`required`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Collection

import pyotp
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth import throttle
from core.clock import Clock
from core.errors import AuthenticationFailed, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import MfaRecoveryCode, User
from core.sealing import CannotOpen, Sealer

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # a code of the previous or the next step is accepted too
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/i/l: read aloud, typed
RECOVERY_GROUPS = 3  # "xxxx-xxxx-xxxx": 12 characters of 31, about 59 bits
_SEALING_PURPOSE = b"vigie totp secrets v1"

NOT_STARTED = N_("the enrolment has expired: scan the new QR code, then type its code")
NOT_CURRENT = N_("this code is not the current one: check the time of your phone")
NOT_ENROLLED = N_("two-factor sign-in is not set up")


class Method:
    """How a sign-in was proven (``user_sessions.auth_method``)."""

    PASSWORD = "password"  # noqa: S105 (a method's name)
    TOTP = "totp"
    RECOVERY = "recovery"
    SSO = "sso"


class MfaThrottled(AuthenticationFailed):
    """Too many wrong codes: the account's second factor waits until ``until``."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__("too many wrong codes: try again later")
        self.until = until


def sealer(secret_key: str) -> Sealer:
    """The sealer of TOTP secrets (a key of its own, derived from ``CERT_SECRET_KEY``)."""
    return Sealer(secret_key, purpose=_SEALING_PURPOSE)


def required(user: User, roles: Collection[str]) -> bool:
    """Whether ``user``'s role must sign in with a second factor (``CERT_MFA_REQUIRED_ROLES``)."""
    return user.role.value in roles


def must_enrol(user: User, roles: Collection[str]) -> bool:
    """A user whose role requires a second factor but who has not enrolled yet."""
    return required(user, roles) and not user.mfa_enrolled


def pending_step(user: User, roles: Collection[str]) -> dict[str, str]:
    """What the sign-in still needs after a right password, for its audit row: a code
    (``{"second_factor": "code"}``), an enrolment (``"enrol"``), or nothing (``{}``)."""
    if user.mfa_enrolled:
        return {"second_factor": "code"}
    return {"second_factor": "enrol"} if must_enrol(user, roles) else {}


# ---------------------------------------------------------------- enrolment
def start_enrolment(db: Session, user: User, *, seal: Sealer) -> str:
    """The secret being enrolled (base32, shown as a QR code and as text): the pending one when
    the page is opened again, else a new one. The caller commits."""
    if user.totp_pending_secret:
        try:
            return seal.open(user.totp_pending_secret)
        except CannotOpen:
            pass  # sealed with a former secret key: start again
    secret = pyotp.random_base32()
    user.totp_pending_secret = seal.seal(secret)
    db.flush()
    return secret


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI of the QR code (RFC 6238 defaults, named for the CERT)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def confirm_enrolment(
    db: Session, actor: Actor, user: User, code: str, *, seal: Sealer, clock: Clock
) -> list[str]:
    """Turn two-factor sign-in on with the pending secret once ``code`` matches it; returns the
    ten recovery codes (shown once). ``ValidationFailed`` naming ``code`` otherwise."""
    if not user.totp_pending_secret:
        raise ValidationFailed("no enrolment in progress", fields={"code": NOT_STARTED})
    try:
        secret = seal.open(user.totp_pending_secret)
    except CannotOpen:
        raise ValidationFailed("enrolment expired", fields={"code": NOT_STARTED}) from None
    step = _matching_step(secret, code, clock.now())
    if step is None:
        raise ValidationFailed("wrong code", fields={"code": NOT_CURRENT})
    now = clock.now()
    user.totp_secret = user.totp_pending_secret
    user.totp_pending_secret = None
    user.totp_last_step = step  # the code that enrolled does not sign in again
    user.mfa_enrolled_at = now
    codes = _new_recovery_codes(db, user, now=now)
    audit.record(db, actor, AccountAction.MFA_ENROL, "user", user.id, clock=clock)
    return codes


# ---------------------------------------------------------------- codes
def _normalise(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def _step(now: dt.datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step whose code ``code`` is (current ± ``DRIFT_STEPS``), else ``None``."""
    code = _normalise(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = _step(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):  # every step: constant time
            found = step
    return found


def current_code(secret: str, now: dt.datetime) -> str:
    """The code of ``secret`` at ``now`` (tests, and the CLI's self-check)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(now)


def _throttle_key(user: User) -> str:
    # the throttle's rows are keyed on a digest of this text: the second factor's count is the
    # account's own, apart from the password's (an address cannot contain a NUL)
    return f"mfa\0{user.id}"


def blocked_until(db: Session, user: User, *, clock: Clock) -> dt.datetime | None:
    """When the user's second factor may be tried again, while it must wait."""
    return throttle.blocked_until(db, _throttle_key(user), now=clock.now())


def check_code(
    db: Session, user: User, code: str, *, seal: Sealer, ip: str | None, clock: Clock
) -> str:
    """Check a second-factor code of an enrolled user: a TOTP code not used before, else an
    unused recovery code (used up). Returns the :class:`Method`; raises :class:`MfaThrottled`
    while the account waits, ``AuthenticationFailed`` for a wrong or replayed code (counted and
    audited). The caller commits either way."""
    now = clock.now()
    actor = Actor.for_user(user, ip=ip)
    waiting = blocked_until(db, user, clock=clock)
    if waiting is not None:
        after = {"until": waiting.isoformat(), "reason": "throttled"}
        audit.record(db, actor, AccountAction.MFA_FAILED, "user", user.id, clock=clock, after=after)
        raise MfaThrottled(waiting)
    if not user.mfa_enrolled or user.totp_secret is None:
        raise AuthenticationFailed("two-factor sign-in is not set up")
    method, reason = _accept(db, user, code, seal=seal, now=now)
    if method is not None:
        throttle.clear(db, _throttle_key(user))
        if method == Method.RECOVERY:
            left = {"remaining": remaining_recovery_codes(db, user)}
            used = AccountAction.MFA_RECOVERY_USED
            audit.record(db, actor, used, "user", user.id, clock=clock, after=left)
        return method
    audit.record(
        db, actor, AccountAction.MFA_FAILED, "user", user.id, clock=clock, after={"reason": reason}
    )
    delay = throttle.record_failure(db, _throttle_key(user), now=now)
    if delay is not None:
        wait = {"delay_seconds": int(delay.total_seconds())}
        audit.record(
            db, actor, AccountAction.MFA_THROTTLE, "user", user.id, clock=clock, after=wait
        )
    raise AuthenticationFailed("wrong code")


def _accept(
    db: Session, user: User, code: str, *, seal: Sealer, now: dt.datetime
) -> tuple[str | None, str]:
    """The method that ``code`` proves, or ``None`` and why not ("wrong", "replayed")."""
    try:
        secret = seal.open(user.totp_secret or "")
    except CannotOpen:
        secret = None  # sealed with a former secret key: only recovery codes still work
    step = _matching_step(secret, code, now) if secret is not None else None
    if step is not None:
        claimed = db.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(claimed, "rowcount", 0) or 0) == 1:
            user.totp_last_step = step
            return Method.TOTP, ""
        return None, "replayed"
    if _use_recovery_code(db, user, code, now=now):
        return Method.RECOVERY, ""
    return None, "wrong"


def record_sign_in(db: Session, user: User, *, method: str, ip: str | None, clock: Clock) -> None:
    """Audit a sign-in completed by its second factor (``method``: TOTP, RECOVERY, or TOTP for
    the code that enrolled); the password step's ``auth.login`` row said it was pending."""
    actor = Actor.for_user(user, ip=ip)
    after = {"method": method}
    audit.record(db, actor, AccountAction.MFA_SIGNIN, "user", user.id, clock=clock, after=after)


# ---------------------------------------------------------------- recovery codes
def _recovery_digest(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4 * RECOVERY_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def _new_recovery_codes(db: Session, user: User, *, now: dt.datetime) -> list[str]:
    db.execute(
        delete(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    codes: list[str] = []
    while len(codes) < RECOVERY_CODES:
        code = _recovery_code()
        if code not in codes:
            codes.append(code)
    db.add_all(
        MfaRecoveryCode(user_id=user.id, code_hash=_recovery_digest(code), created_at=now)
        for code in codes
    )
    db.flush()
    return codes


def _use_recovery_code(db: Session, user: User, code: str, *, now: dt.datetime) -> bool:
    normalised = _normalise(code)
    if len(normalised) != 4 * RECOVERY_GROUPS:
        return False
    used = db.execute(
        update(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user.id,
            MfaRecoveryCode.code_hash == _recovery_digest(normalised),
            MfaRecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(used, "rowcount", 0) or 0) == 1


def remaining_recovery_codes(db: Session, user: User) -> int:
    query = select(func.count()).where(
        MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
    )
    return int(db.scalar(query) or 0)


def regenerate_recovery_codes(db: Session, actor: Actor, user: User, *, clock: Clock) -> list[str]:
    """A new set of ten codes (the old ones stop working); audited. The caller has checked a
    current code (the account page asks for one)."""
    if not user.mfa_enrolled:
        raise ValidationFailed("two-factor sign-in is not set up", fields={"code": NOT_ENROLLED})
    codes = _new_recovery_codes(db, user, now=clock.now())
    audit.record(db, actor, AccountAction.MFA_RECOVERY_CODES, "user", user.id, clock=clock)
    return codes


# ---------------------------------------------------------------- removal
def remove(db: Session, actor: Actor, user: User, *, action: AccountAction, clock: Clock) -> bool:
    """Forget the user's second factor (secret, pending secret, recovery codes, wrong-code
    count); audited as ``action`` (``MFA_RESET`` by an administrator, ``MFA_DISABLE`` by the
    user). Whether there was anything to remove. Ending sessions and telling the user belong to
    the caller (:mod:`core.auth.mfa_admin`)."""
    had = user.totp_secret is not None or user.totp_pending_secret is not None
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.mfa_enrolled_at = None
    db.execute(
        delete(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    throttle.clear(db, _throttle_key(user))
    audit.record(
        db, actor, action, "user", user.id, clock=clock, after={"user": user.email, "had": had}
    )
    return had


MFA_ACTIONS = (
    AccountAction.MFA_ENROL,
    AccountAction.MFA_RECOVERY_USED,
    AccountAction.MFA_RECOVERY_CODES,
    AccountAction.MFA_RESET,
    AccountAction.MFA_DISABLE,
    AccountAction.MFA_THROTTLE,
    AccountAction.MFA_SIGNIN,
)
