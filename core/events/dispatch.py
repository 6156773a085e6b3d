"""The dispatcher (kernel, Flask-free): :func:`deliver_events` hands recorded events to handlers.

One run, by the scheduler's ``events.deliver`` job or ``cert events deliver``:

1. **Dispatch**: the oldest events not yet dispatched get one ``pending`` delivery per handler
   subscribed to their name, and ``dispatched_at``, in one short transaction. A handler added
   later receives the events recorded after that, not the older ones.
2. **Deliver**: the due deliveries, up to :data:`PER_TRANSACTION` in a transaction, which
   locks them (PostgreSQL ``FOR UPDATE SKIP LOCKED``: another dispatcher takes the next ones;
   SQLite ``BEGIN IMMEDIATE``: dispatchers take turns), runs each handler in a SAVEPOINT of its
   own and marks each delivery ``done`` — a handler's writes and its mark commit together, so a
   delivery that is ``done`` never runs again: **at most once** for the database effects. A
   handler that raises has its writes rolled back with its savepoint; the attempt is counted and
   the delivery is due again after a back-off (5 s doubling, at most 10 minutes), until
   ``max_attempts``, when it is marked ``failed`` (``cert events list --status failed``). A
   dispatcher that dies mid-handler holds no lease: its transaction rolls back and its
   deliveries are simply still pending.

Effects outside the database (a mail server, an HTTP call) cannot join the transaction: for
them delivery is at least once (a crash after the call, before the commit, repeats it), so such
handlers should write an outbox row instead, or be idempotent. Events of one aggregate reach a
handler in order unless a delivery is being retried or several dispatchers run at once.
Keep handlers short: on SQLite they run while their transaction holds the database's write lock.

Settings: a handler declared with :meth:`~core.events.registry.Handler.with_settings` gets its
slice's settings object as a third argument, taken from ``settings`` (slice name → the object its
manifest built at start-up: the same mapping as ``JobContext.settings``). A run whose ``settings``
lack one a handler needs stops before it delivers anything (``ValueError``), like one given two
handlers of the same name: a wiring mistake, not a delivery to retry.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core import requestid
from core.clock import Clock
from core.db import Base, SessionFactory, is_postgres
from core.errors import describe
from core.events.registry import Handler, registered_names
from core.events.store import DeliveryStatus, DomainEvent, EventDelivery, loaded
from core.uow import transaction

_DELIVERIES = Base.metadata.tables["domain_event_deliveries"]
DEFAULT_MAX_ATTEMPTS = 8
# Deliveries run in one transaction (each handler in a savepoint of its own): one transaction
# per delivery cost more than most handlers (BEGIN, the lock, COMMIT); 10 keep SQLite's write
# lock for a few milliseconds only.
PER_TRANSACTION = 10


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: 5 s, 10 s, 20 s … at most 10 minutes."""
    return dt.timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


def deliver_events(
    session_factory: SessionFactory,
    handlers: Iterable[Handler],
    *,
    clock: Clock,
    batch_size: int = 100,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_after: Callable[[int], dt.timedelta] = backoff,
    time_slice: float | None = None,
    settings: Mapping[str, object] | None = None,
) -> dict[str, int]:
    """Dispatch up to ``batch_size`` new events, then run up to ``batch_size`` due deliveries;
    return how many deliveries were created, done, left for a retry, and given up.

    With ``time_slice`` (seconds), go on with another batch while the last one was full — it
    dispatched ``batch_size`` events or ran ``batch_size`` deliveries: a backlog is waiting —
    until ``time_slice`` has passed (measured on the monotonic clock, not ``clock``): a burst
    of events is worked off in one run instead of a batch per run, and the run still ends.

    ``settings``: the slices' settings, keyed by slice name, for the handlers that take them."""
    given = dict(settings or {})
    by_name = _checked(handlers, given)
    counts = {"dispatched": 0, "delivered": 0, "retried": 0, "failed": 0}
    ends = None if time_slice is None else time.monotonic() + time_slice
    while True:
        events, rows = _dispatch(session_factory, by_name, clock=clock, limit=batch_size)
        counts["dispatched"] += rows
        ran = 0
        while by_name and ran < batch_size:
            wanted = min(PER_TRANSACTION, batch_size - ran)
            outcomes = _deliver_batch(
                session_factory,
                by_name,
                clock=clock,
                max_attempts=max_attempts,
                retry=retry_after,
                limit=wanted,
                settings=given,
            )
            for outcome in outcomes:
                counts[outcome] += 1
            ran += len(outcomes)
            if len(outcomes) < wanted:  # none due any more
                break
        full = events == batch_size or ran == batch_size
        if ends is None or not full or time.monotonic() >= ends:
            return counts


def _checked(handlers: Iterable[Handler], settings: Mapping[str, object]) -> dict[str, Handler]:
    by_name: dict[str, Handler] = {}
    known = registered_names()
    for handler in handlers:
        if handler.name in by_name:
            raise ValueError(f"two handlers are named {handler.name}")
        unknown = handler.events - known
        if unknown:
            raise ValueError(f"handler {handler.name}: unregistered events {sorted(unknown)}")
        if handler.needs is not None:
            try:
                handler.needs.pick(settings)
            except LookupError as exc:
                raise ValueError(f"handler {handler.name}: {exc}") from None
        by_name[handler.name] = handler
    return by_name


def _dispatch(
    session_factory: SessionFactory, by_name: Mapping[str, Handler], *, clock: Clock, limit: int
) -> tuple[int, int]:
    """Give the oldest ``limit`` events not yet dispatched their deliveries; how many events,
    how many deliveries."""
    subscribers: dict[str, list[str]] = {}
    for handler in by_name.values():
        for name in handler.events:
            subscribers.setdefault(name.value, []).append(handler.name)
    query = (
        select(DomainEvent.id, DomainEvent.name)
        .where(DomainEvent.dispatched_at.is_(None))
        .order_by(DomainEvent.id)
        .limit(limit)
    )
    with transaction(session_factory, write=True) as session:
        if is_postgres(session):
            # PostgreSQL-specific: a concurrent dispatcher takes the events after these
            query = query.with_for_update(skip_locked=True)
        events = session.execute(query).all()
        if not events:
            return 0, 0
        now = clock.now()
        rows = [
            {
                "event_id": event_id,
                "handler": handler,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": None,
                "delivered_at": None,
            }
            for event_id, name in events
            for handler in sorted(subscribers.get(name, ()))
        ]
        if rows:
            session.execute(insert(_DELIVERIES), rows)
        ids = [event_id for event_id, _ in events]
        session.execute(
            update(DomainEvent).where(DomainEvent.id.in_(ids)).values(dispatched_at=now)
        )
    return len(events), len(rows)


def _deliver_batch(
    session_factory: SessionFactory,
    by_name: Mapping[str, Handler],
    *,
    clock: Clock,
    max_attempts: int,
    retry: Callable[[int], dt.timedelta],
    limit: int,
    settings: Mapping[str, object],
) -> list[str]:
    """Run up to ``limit`` due deliveries in one transaction, each handler in a savepoint of
    its own; the counters to increase, one per delivery (empty: none was due)."""
    query = (
        select(EventDelivery)
        .where(
            EventDelivery.status == DeliveryStatus.PENDING,
            EventDelivery.next_attempt_at <= clock.now(),
            EventDelivery.handler.in_(list(by_name)),  # a removed handler's rows wait
        )
        .order_by(EventDelivery.next_attempt_at, EventDelivery.id)
        .limit(limit)
    )
    with transaction(session_factory, write=True) as session:
        if is_postgres(session):
            # PostgreSQL-specific: the rows stay locked until the commit; others skip them
            query = query.with_for_update(skip_locked=True)
        deliveries = list(session.scalars(query))
        ids = {delivery.event_id for delivery in deliveries}
        rows = {
            row.id: row
            for row in session.scalars(select(DomainEvent).where(DomainEvent.id.in_(ids)))
        }
        return [
            _deliver(
                session,
                delivery,
                rows[delivery.event_id],
                by_name[delivery.handler],
                _Attempt(clock, max_attempts, retry, settings),
            )
            for delivery in deliveries
        ]


@dataclass(frozen=True)
class _Attempt:
    """What every delivery of a run is attempted with."""

    clock: Clock
    max_attempts: int
    retry: Callable[[int], dt.timedelta]
    settings: Mapping[str, object]


def _deliver(
    session: Session, delivery: EventDelivery, row: DomainEvent, handler: Handler, at: _Attempt
) -> str:
    """Run one delivery's handler in a savepoint and mark it; the counter to increase."""
    delivery.attempts += 1
    session.flush()
    try:
        # the handler's log lines and outbox rows name the request that caused the event
        with requestid.bound(row.request_id), session.begin_nested():
            handler.run(session, loaded(row), at.settings)
    except Exception as exc:  # any failure of one handler must not stop the others
        delivery.last_error = describe(exc)
        if delivery.attempts >= at.max_attempts:
            delivery.status = DeliveryStatus.FAILED
            return "failed"
        delivery.next_attempt_at = at.clock.now() + at.retry(delivery.attempts)
        return "retried"
    delivery.status, delivery.delivered_at = DeliveryStatus.DONE, at.clock.now()
    return "delivered"
