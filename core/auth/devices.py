"""Device cookies (kernel: Flask-free): a browser a user has signed in from is spared the
per-account sign-in wait, so that an attacker who knows the address cannot lock its owner out.

This is OWASP's "Slow Down Online Guessing Attacks with Device Cookies". After a successful
sign-in the browser receives a cookie (``COOKIE_NAME``, see :mod:`cert.accounts.signin`) whose
value is signed with the application's secret key and holds a random nonce, its issue time and a
binding: an HMAC of the user's id, e-mail address, session nonce and password hash. Its attempts
for that account are then not subject to the wait of :mod:`core.auth.throttle` (which counts the
failures of every other client, the "untrusted" ones); the device has its own failure count
instead, and its ``MAX_FAILURES``-th failure within an hour revokes it until the cookie expires
(a row of ``login_throttles`` keyed on the nonce), after which its attempts are untrusted again.

The binding makes a cookie worthless for any other account and after a password change (own or
by an administrator), a deactivation or an administrator ending all sessions (those change the
password hash or the session nonce). A cookie is only ever issued for a successful sign-in, so
an unknown address never has a valid one and is answered like any untrusted attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import throttle
from core.identity.models import User

COOKIE_NAME = "vigie_device"
LIFETIME = dt.timedelta(days=180)
MAX_FAILURES = 5
_SALT = "vigie.device-cookie"
_MAX_LENGTH = 512  # an issued cookie is about 110 characters


class DeviceState(StrEnum):
    """What the sign-in attempt presented (audited as ``device_cookie``)."""

    ABSENT = "absent"
    INVALID = "invalid"  # forged, expired, of another account or no longer bound to this one
    REVOKED = "revoked"  # valid, but its own failure count revoked it
    TRUSTED = "trusted"


@dataclass(frozen=True)
class Device:
    """A valid device cookie for the account being signed in to."""

    nonce: str
    expires_at: dt.datetime


class DeviceCookies:
    """Issues and reads device cookies signed with ``secret`` (the application's secret key)."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt=_SALT)
        self._key = hashlib.sha256(b"vigie device binding\0" + secret.encode()).digest()

    def _binding(self, user: User) -> str:
        parts = (str(user.id), user.email.lower(), user.session_nonce, user.password_hash or "")
        message = "\0".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, user: User, *, now: dt.datetime) -> str:
        """A new cookie value for ``user``'s browser (a new nonce each time)."""
        return self._serializer.dumps(
            [secrets.token_urlsafe(24), int(now.timestamp()), self._binding(user)]
        )

    def read(self, value: str | None, user: User | None, *, now: dt.datetime) -> Device | None:
        """The device, when ``value`` is a cookie issued for ``user`` and not expired."""
        if not value or len(value) > _MAX_LENGTH:
            return None
        try:
            payload = self._serializer.loads(value)
        except BadSignature:
            return None
        if not isinstance(payload, list) or len(payload) != 3:
            return None
        nonce, issued, binding = payload
        if not (isinstance(nonce, str) and isinstance(issued, int) and isinstance(binding, str)):
            return None
        try:
            expires_at = dt.datetime.fromtimestamp(issued, dt.UTC) + LIFETIME
        except (OverflowError, OSError, ValueError):
            return None
        if now >= expires_at or user is None:
            return None
        if not hmac.compare_digest(binding.encode(), self._binding(user).encode()):
            return None
        return Device(nonce, expires_at)


def recognise(
    db: Session,
    cookies: DeviceCookies | None,
    value: str | None,
    user: User | None,
    *,
    now: dt.datetime,
) -> tuple[Device | None, DeviceState]:
    """The trusted device of this attempt, if any, and what was presented."""
    if cookies is None or not value:
        return None, DeviceState.ABSENT
    device = cookies.read(value, user, now=now)
    if device is None or user is None:
        return None, DeviceState.INVALID
    # Attempts with one account's device cookies wait for each other (PostgreSQL; SQLite sign-ins
    # are serialised already), so that racing guesses see each other's failures: a stolen cookie
    # never buys more than MAX_FAILURES guesses.
    db.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    if throttle.device_revoked(db, device.nonce, now=now):
        return None, DeviceState.REVOKED
    return device, DeviceState.TRUSTED


def record_failure(db: Session, device: Device, *, now: dt.datetime) -> bool:
    """Count a failure of a trusted device; whether it revoked the device."""
    count = throttle.record_device_failure(
        db, device.nonce, now=now, limit=MAX_FAILURES, revoke_until=device.expires_at
    )
    return count == MAX_FAILURES
