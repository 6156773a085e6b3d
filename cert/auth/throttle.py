"""Per-account sign-in throttle (kernel: Flask-free), besides the per-address rate limit.

Failures are counted per submitted e-mail address, whether an account has it or not, so that the
throttle answers an unknown address exactly like a known one. From the ``THRESHOLD``-th failure
on, each failure makes the address wait ``FIRST_DELAY`` doubled per further failure, at most
``MAX_DELAY``, before it may try again, from any client address. Attempts during the wait are
refused without being counted (they do not lengthen it), so the account is never locked out for
longer than ``MAX_DELAY`` after the last counted failure. A successful sign-in, or an hour
(``WINDOW``) without failure, clears the count.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cert.auth.models import LoginThrottle

THRESHOLD = 5
FIRST_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(minutes=15)
WINDOW = dt.timedelta(hours=1)


def _key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _row(db: Session, email: str) -> LoginThrottle | None:
    return db.scalar(select(LoginThrottle).where(LoginThrottle.key_hash == _key(email)))


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


def record_failure(db: Session, email: str, *, now: dt.datetime) -> dt.timedelta | None:
    """Count a failure; the wait it starts, if any."""
    row = _row(db, email)
    if row is None:
        row = LoginThrottle(key_hash=_key(email), failures=0, last_failure_at=now)
        try:
            with db.begin_nested():  # two first failures at once: one row, the other counts on it
                db.add(row)
        except IntegrityError:
            row = _row(db, email)
            if row is None:  # pragma: no cover - the other transaction rolled back meanwhile
                return None
    elif now - row.last_failure_at >= WINDOW:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
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


def purge(db: Session, *, now: dt.datetime) -> int:
    """Forget the counts that no longer matter (an hour without failure, no wait running)."""
    result = db.execute(
        delete(LoginThrottle)
        .where(
            LoginThrottle.last_failure_at <= now - WINDOW,
            or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
