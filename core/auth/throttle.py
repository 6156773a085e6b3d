"""Per-account sign-in throttle (kernel: Flask-free), besides the per-address rate limit.

Failures are counted per submitted e-mail address, whether an account has it or not, so that the
throttle answers an unknown address exactly like a known one. From the ``THRESHOLD``-th failure
on, each failure makes the address wait ``FIRST_DELAY`` doubled per further failure, at most
``MAX_DELAY``, before it may try again, from any client address. Attempts during the wait are
refused without being counted (they do not lengthen it), so the account is never locked out for
longer than ``MAX_DELAY`` after the last counted failure. A successful sign-in, or an hour
(``WINDOW``) without failure, clears the count.

A browser holding a valid device cookie (:mod:`core.auth.devices`) is not subject to that wait:
its failures are counted on a row of its own (keyed on the cookie's nonce, not on the address),
and reaching the device's limit revokes it until its cookie expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.identity.models import LoginThrottle

THRESHOLD = 5
FIRST_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(minutes=15)
WINDOW = dt.timedelta(hours=1)


def _key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _device_key(nonce: str) -> str:
    return hashlib.sha256(b"device\0" + nonce.encode()).hexdigest()


def _row(db: Session, email: str) -> LoginThrottle | None:
    return _row_by_key(db, _key(email))


def _row_by_key(db: Session, key: str) -> LoginThrottle | None:
    return db.scalar(select(LoginThrottle).where(LoginThrottle.key_hash == key))


def blocked_until(db: Session, email: str, *, now: dt.datetime) -> dt.datetime | None:
    """When this address may try again, while it must wait; else ``None``."""
    row = _row(db, email)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return row.blocked_until


def failures(db: Session, email: str) -> int:
    """Failures counted for this address (in the current window)."""
    row = _row(db, email)
    return row.failures if row is not None else 0


def delay_after(failures: int) -> dt.timedelta | None:
    """The wait imposed by the ``failures``-th failure in a row."""
    if failures < THRESHOLD:
        return None
    doublings = min(failures - THRESHOLD, 10)  # 2**10 minutes is past the cap already
    return min(FIRST_DELAY * (1 << doublings), MAX_DELAY)


def _locked_row(db: Session, key: str) -> LoginThrottle | None:
    """The row, locked until the commit and read afresh (PostgreSQL: racing failures wait for
    each other instead of overwriting each other's count; SQLite serialises writers)."""
    query = select(LoginThrottle).where(LoginThrottle.key_hash == key).with_for_update()
    return db.scalar(query.execution_options(populate_existing=True))


def _count(db: Session, key: str, *, now: dt.datetime) -> LoginThrottle | None:
    row = _locked_row(db, key)
    if row is None:
        row = LoginThrottle(key_hash=key, failures=0, last_failure_at=now)
        try:
            with db.begin_nested():  # two first failures at once: one row, the other counts on it
                db.add(row)
        except IntegrityError:
            row = _locked_row(db, key)
            if row is None:  # pragma: no cover - the other transaction rolled back meanwhile
                return None
    elif now - row.last_failure_at >= WINDOW:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    return row


def record_failure(db: Session, email: str, *, now: dt.datetime) -> dt.timedelta | None:
    """Count a failure; the wait it starts, if any."""
    row = _count(db, _key(email), now=now)
    if row is None:  # pragma: no cover
        return None
    delay = delay_after(row.failures)
    row.blocked_until = now + delay if delay is not None else None
    db.flush()
    return delay


def clear(db: Session, email: str) -> None:
    """A successful sign-in: the count starts again."""
    db.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.key_hash == _key(email))
        .execution_options(synchronize_session=False)
    )


def device_revoked(db: Session, nonce: str, *, now: dt.datetime) -> bool:
    """Whether the device with this cookie nonce lost its trust (until its cookie expires)."""
    query = select(LoginThrottle).where(LoginThrottle.key_hash == _device_key(nonce))
    row = db.scalar(query.execution_options(populate_existing=True))
    return row is not None and row.blocked_until is not None and row.blocked_until > now


def record_device_failure(
    db: Session, nonce: str, *, now: dt.datetime, limit: int, revoke_until: dt.datetime
) -> int:
    """Count a failure of a trusted device (the count restarts after ``WINDOW`` without one);
    the ``limit``-th revokes it until ``revoke_until``, when its cookie expires anyway (the purge
    keeps the row until then). The count."""
    row = _count(db, _device_key(nonce), now=now)
    if row is None:  # pragma: no cover
        return 0
    if row.failures >= limit:
        row.blocked_until = revoke_until
    db.flush()
    return row.failures


def clear_device(db: Session, nonce: str) -> None:
    """A successful sign-in from the device: its count starts again."""
    db.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.key_hash == _device_key(nonce))
        .execution_options(synchronize_session=False)
    )


def purge(db: Session, *, now: dt.datetime) -> int:
    """Forget the counts that no longer matter (an hour without failure, no wait running and no
    device revoked)."""
    result = db.execute(
        delete(LoginThrottle)
        .where(
            LoginThrottle.last_failure_at <= now - WINDOW,
            or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
