"""The purge of delivered domain events (kernel, Flask-free): :func:`purge_events`.

Run hourly by the scheduler's ``events.purge`` job (``CERT_EVENTS_RETENTION_DAYS``) and by
``cert events purge``. An event goes, with its delivery rows, once it is older than the
retention and every handler has it: dispatched, and each of its deliveries ``done`` (or none,
when no handler subscribed to its name). An event not yet dispatched, or with a ``pending`` or
``failed`` delivery, stays whatever its age: it is still owed to a handler, or waits for
someone to look at it (``cert events list --status failed``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, delete, exists, literal_column, select
from sqlalchemy.orm import Session

from core.db import SessionFactory
from core.events.store import DeliveryStatus, DomainEvent, EventDelivery
from core.uow import transaction

DEFAULT_BATCH_SIZE = 1000


def purgeable(older_than: dt.datetime) -> Select[int]:
    """Ids of the events that occurred before ``older_than`` and that every handler has
    (index ``ix_domain_events_occurred_at``; each event's owed deliveries through the partial
    index ``ix_domain_event_deliveries_owed``)."""
    # the status as a literal: the planners use the partial index of the owed deliveries
    # (ix_domain_event_deliveries_owed) only for a condition they can see implies its own
    owed = exists().where(
        EventDelivery.event_id == DomainEvent.id,
        EventDelivery.status != literal_column(f"'{DeliveryStatus.DONE.value}'"),
    )
    return select(DomainEvent.id).where(
        DomainEvent.occurred_at < older_than, DomainEvent.dispatched_at.is_not(None), ~owed
    )


def purge_batch(session: Session, *, older_than: dt.datetime, limit: int) -> dict[str, int]:
    """Delete up to ``limit`` purgeable events and their deliveries in the caller's transaction
    (never commits); how many of each went. The ids are read first: a delivery that is ``done``
    never changes again and an event already dispatched gets no new delivery, so the events read
    are still purgeable when deleted."""
    ids = list(session.scalars(purgeable(older_than).limit(limit)))
    if not ids:
        return {"events": 0, "deliveries": 0}
    deliveries = session.execute(
        delete(EventDelivery)
        .where(EventDelivery.event_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    events = session.execute(
        delete(DomainEvent)
        .where(DomainEvent.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return {
        "events": int(getattr(events, "rowcount", 0) or 0),
        "deliveries": int(getattr(deliveries, "rowcount", 0) or 0),
    }


def purge_events(
    session_factory: SessionFactory,
    *,
    older_than: dt.datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, int]:
    """Delete every purgeable event that occurred before ``older_than``, with its deliveries,
    ``batch_size`` events per transaction (a long backlog never holds the write lock for long);
    how many events and deliveries went."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    counts = {"events": 0, "deliveries": 0}
    while True:
        # reads the ids, then deletes them: as a writer from the start
        with transaction(session_factory, write=True) as session:
            done = purge_batch(session, older_than=older_than, limit=batch_size)
        counts = {name: counts[name] + done[name] for name in counts}
        if done["events"] < batch_size:
            return counts
