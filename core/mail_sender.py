"""Outgoing mail (kernel): the outbox's sender.

:func:`drain_outbox` (scheduler job, ``cert mail send-pending``) delivers due messages through a
:class:`~core.mailers.Mailer`, at least once: rows are claimed with a lease in one short
transaction, sent outside any transaction (several per SMTP connection, through the mailer's
session), then their outcomes are recorded in small groups, a transaction each. A sender that
dies mid-send leaves its rows in ``sending``; they are claimed again once the lease has expired
and re-sent with the **same** Message-ID, so recipients (and their mail systems) can recognise the
duplicate. A message queued as a template is rendered (:func:`core.mail_compose.rendered`)
when first claimed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.db import SessionFactory, is_postgres
from core.errors import MAX_ERROR_LENGTH, describe
from core.mail_compose import SharedRenderings, compose, keep_rendered, redact
from core.mailers import Mailer, MailerSession, is_permanent, session_of
from core.outbox import (
    OutboxAttempt,
    OutboxMessage,
    OutboxStatus,
)
from core.sealing import Sealer
from core.uow import transaction


# ------------------------------------------------------------------ sending
def exponential_backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min … at most 1 hour."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True)
class _Claim:
    id: int
    lease_until: dt.datetime  # also the claim's ownership token
    message: EmailMessage


@dataclass(frozen=True)
class _Outcome:
    claim: _Claim
    started: dt.datetime
    finished: dt.datetime
    error: Exception | None


@dataclass(frozen=True)
class _Policy:
    clock: Clock
    mail_from: str
    max_attempts: int
    lease: dt.timedelta
    backoff: Callable[[int], dt.timedelta]
    sealer: Sealer | None


RECORD_EVERY = 50  # outcomes recorded together, in one transaction …
RECORD_SECONDS = 1.0  # … or as soon as the oldest unrecorded one is this old (wall time)


def drain_outbox(
    session_factory: SessionFactory,
    mailer: Mailer,
    *,
    clock: Clock,
    mail_from: str,
    max_attempts: int = 8,
    batch_size: int = 100,
    lease_seconds: int = 300,
    backoff: Callable[[int], dt.timedelta] = exponential_backoff,
    sealer: Sealer | None = None,
    time_slice: float = 0.0,
) -> dict[str, int]:
    """Send due messages; return how many were sent, retried later, or failed.

    One batch of at most ``batch_size`` claimed messages; with a ``time_slice`` (seconds, wall
    time), further batches while the previous one was full and the slice is not over. The
    messages go through one mailer session (:func:`core.mailers.session_of`: several per SMTP
    connection) and their outcomes are recorded in small groups (``RECORD_EVERY`` outcomes or
    ``RECORD_SECONDS``, whichever comes first, and whatever is left when the drain stops, even
    on an exception), each group in one transaction. A sender killed before recording re-sends
    the unrecorded messages of its claim once the lease expires, with the same Message-IDs: the
    documented at-least-once.

    ``sealer`` opens the messages queued sealed (:mod:`core.outbox`); without it they fail.

    Each claimed message is sent only while at least a fifth of the lease remains: a slow batch
    hands its unsent rest back (``pending``) instead of letting another sender re-claim rows that
    it would still send. The same happens when the loop is interrupted (e.g. SIGTERM).
    """
    lease = dt.timedelta(seconds=lease_seconds)
    policy = _Policy(clock, mail_from, max_attempts, lease, backoff, sealer)
    counts = {"sent": 0, "retried": 0, "failed": 0}
    deadline = time.monotonic() + time_slice
    with session_of(mailer) as channel:
        while True:
            claims = _claim_due(session_factory, policy, batch_size, counts)
            complete = _send_claims(session_factory, policy, channel, claims, counts)
            if not complete or len(claims) < batch_size or time.monotonic() >= deadline:
                return counts


def _send_claims(
    session_factory: SessionFactory,
    policy: _Policy,
    channel: MailerSession,
    claims: list[_Claim],
    counts: dict[str, int],
) -> bool:
    """Send ``claims`` in order and record their outcomes; False when some were handed back."""
    pending = list(reversed(claims))
    done: list[_Outcome] = []
    oldest = 0.0
    clock = policy.clock
    try:
        while pending:
            claim = pending[-1]
            if clock.now() >= claim.lease_until - policy.lease / 5:
                break
            pending.pop()
            started = clock.now()
            error: Exception | None = None
            try:
                channel.send(claim.message)
            except Exception as exc:  # any failure of one message must not stop the batch
                error = exc
            if not done:
                oldest = time.monotonic()
            done.append(_Outcome(claim, started, clock.now(), error))
            if len(done) >= RECORD_EVERY or time.monotonic() - oldest >= RECORD_SECONDS:
                for counter in _record_attempts(session_factory, policy, done):
                    counts[counter] += 1
                done = []
    finally:
        if done:
            for counter in _record_attempts(session_factory, policy, done):
                counts[counter] += 1
        if pending:
            _release(session_factory, pending)
    return not pending


def _claim_due(
    session_factory: SessionFactory, policy: _Policy, batch_size: int, counts: dict[str, int]
) -> list[_Claim]:
    """Mark up to ``batch_size`` due rows ``sending`` under a lease, in one short transaction.

    Due: pending rows whose time has come, and rows left ``sending`` by a sender whose lease
    expired (killed mid-send). ``attempts`` counts claims, so a message that crashes its sender
    cannot be retried forever.
    """
    now = policy.clock.now()
    lease_until = now + policy.lease
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now),
    )
    query = (
        select(OutboxMessage)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch_size)
    )
    claims: list[_Claim] = []
    shared = SharedRenderings()
    with transaction(session_factory, write=True) as session:
        if is_postgres(session):
            # PostgreSQL-specific: concurrent senders skip rows another sender is claiming.
            query = query.with_for_update(skip_locked=True)
        for row in session.scalars(query):
            prepared = _prepare(row, policy, shared)
            if isinstance(prepared, EmailMessage):
                row.status, row.lease_until = OutboxStatus.SENDING, lease_until
                row.attempts += 1
                claims.append(_Claim(row.id, lease_until, prepared))
            else:
                row.status, row.lease_until, row.last_error = OutboxStatus.FAILED, None, prepared
                redact(row)
                counts["failed"] += 1
    return claims


def _prepare(row: OutboxMessage, policy: _Policy, shared: SharedRenderings) -> EmailMessage | str:
    """The message to send for ``row``, or why the row must fail without another attempt."""
    if row.attempts >= policy.max_attempts:
        lost = " (last sender stopped mid-send)" if row.status == OutboxStatus.SENDING else ""
        reason = f"gave up after {row.attempts} attempts{lost}; {row.last_error or 'no error'}"
        return reason[:MAX_ERROR_LENGTH]
    try:
        # a template is rendered once, when first claimed, and kept: every attempt sends the same
        content = shared.render(row, policy.sealer)
        keep_rendered(row, content, policy.sealer)
        return compose(row, content, policy.mail_from, shared)
    except (ValueError, TypeError) as exc:  # malformed row, e.g. written without enqueue_mail
        return describe(exc)


def _record_attempts(
    session_factory: SessionFactory, policy: _Policy, outcomes: list[_Outcome]
) -> list[str]:
    """Log the attempts and move their rows on, in one transaction; return the counters to
    increase."""
    with transaction(session_factory, write=True) as session:
        # with_for_update: FOR UPDATE on PostgreSQL; SQLite holds the write lock already.
        query = select(OutboxMessage).where(OutboxMessage.id.in_([o.claim.id for o in outcomes]))
        rows = {row.id: row for row in session.scalars(query.with_for_update())}
        return [_record(session, policy, o, rows.get(o.claim.id)) for o in outcomes]


def _record(session: Session, policy: _Policy, outcome: _Outcome, row: OutboxMessage | None) -> str:
    """Log one attempt and move its row on; return the counter to increase."""
    error, finished = outcome.error, outcome.finished
    if row is None:  # deleted meanwhile
        return "sent" if error is None else "failed"
    session.add(
        OutboxAttempt(
            message_id=row.id,
            started_at=outcome.started,
            finished_at=finished,
            ok=error is None,
            error=None if error is None else describe(error),
        )
    )
    if error is None:
        row.status, row.sent_at, row.lease_until = OutboxStatus.SENT, finished, None
        redact(row)
        return "sent"
    row.last_error = describe(error)
    if row.status != OutboxStatus.SENDING or row.lease_until != outcome.claim.lease_until:
        return "retried"  # another sender took the row over after our lease: leave it to it
    row.lease_until = None
    if is_permanent(error) or row.attempts >= policy.max_attempts:
        row.status = OutboxStatus.FAILED
        redact(row)
        return "failed"
    row.status = OutboxStatus.PENDING
    row.next_attempt_at = finished + policy.backoff(row.attempts)
    return "retried"


def _release(session_factory: SessionFactory, claims: list[_Claim]) -> None:
    """Hand unsent claims back: pending again, due now, the claim not counted as an attempt."""
    with transaction(session_factory, write=True) as session:
        for claim in claims:
            row = session.get(OutboxMessage, claim.id, with_for_update=True)
            if row and row.status == OutboxStatus.SENDING and row.lease_until == claim.lease_until:
                row.status, row.lease_until = OutboxStatus.PENDING, None
                row.attempts -= 1


# ------------------------------------------------------------------ reporting
def count_by_status(session: Session) -> dict[str, int]:
    """Number of outbox messages per status (every status present, zero when none)."""
    counts = {status.value: 0 for status in OutboxStatus}
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    for status, count in rows:
        counts[str(status)] = count
    return counts


def list_failed(session: Session, *, limit: int = 10) -> list[OutboxMessage]:
    """The most recently queued messages that were given up on, newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
