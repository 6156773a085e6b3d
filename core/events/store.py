"""The domain-event tables and :func:`record_event` (kernel, Flask-free).

``domain_events`` holds one row per event, written in the transaction of the change it reports
(a rolled-back change leaves no event). ``domain_event_deliveries`` holds one row per (event,
handler): created by the dispatcher when it first sees the event (``dispatched_at``), then
``pending`` until the handler succeeds (``done``) or has failed ``max_attempts`` times
(``failed``). See :mod:`core.events.dispatch`; :mod:`core.events.purge` deletes the events every
handler has, once past the retention.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import requestid
from core.clock import Clock
from core.db import Base
from core.events.registry import Event, event_name, payload_model


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DONE = "done"  # the handler ran and its writes committed with this mark
    FAILED = "failed"  # gave up after the maximum number of attempts


# a delivery still owed to its handler, as SQL: the partial index's predicate (both engines); the
# purge states its condition with the same literal (core.events.purge) so the planners can use it
_OWED = f"status <> '{DeliveryStatus.DONE.value}'"


class DomainEvent(Base):
    __tablename__ = "domain_events"
    __table_args__ = (
        # the dispatcher's scan: events not yet dispatched, oldest first (a partial index stays
        # as small as the backlog)
        Index(
            "ix_domain_events_undispatched",
            "id",
            sqlite_where=text("dispatched_at IS NULL"),
            postgresql_where=text("dispatched_at IS NULL"),
        ),
        Index("ix_domain_events_aggregate", "aggregate_type", "aggregate_id"),
        # the purge of delivered events past the retention (core.events.purge)
        Index("ix_domain_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))  # an EventName, e.g. "incident.submitted"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    aggregate_type: Mapped[str] = mapped_column(String(64))  # e.g. "incident"
    aggregate_id: Mapped[str] = mapped_column(String(64))  # e.g. "MACERT-2026-000042"
    occurred_at: Mapped[dt.datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str | None] = mapped_column(String(254))  # system actors only
    request_id: Mapped[str | None] = mapped_column(String(64))  # the request that caused it
    dispatched_at: Mapped[dt.datetime | None]  # deliveries created for the handlers then known


class EventDelivery(Base):
    """One handler's delivery of one event."""

    __tablename__ = "domain_event_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "handler"),
        Index("ix_domain_event_deliveries_status_next", "status", "next_attempt_at"),
        # the deliveries still owed (few): the purge's check of each old event (migration 0044)
        Index(
            "ix_domain_event_deliveries_owed",
            "event_id",
            postgresql_where=text(_OWED),
            sqlite_where=text(_OWED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("domain_events.id", ondelete="CASCADE"))
    handler: Mapped[str] = mapped_column(String(100))
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]


_EVENTS = Base.metadata.tables["domain_events"]
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)


def record_event(session: Session, event: Event, *, clock: Clock) -> int:
    """Write ``event`` in the caller's transaction (one INSERT on its connection: nothing to
    flush, never a commit) and return its id. The payload must be an instance of the model
    registered for the name and is validated again (``UnknownEvent``, ``TypeError`` or pydantic's
    ``ValidationError`` otherwise: a programming error, nothing is written)."""
    model = payload_model(event.name)
    if type(event.payload) is not model:
        raise TypeError(
            f"event {event.name} takes a {model.__name__} payload, "
            f"got {type(event.payload).__name__}"
        )
    payload = model.model_validate(event.payload).model_dump(mode="json")
    values = {
        "name": event.name.value,
        "payload": payload,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "occurred_at": clock.now(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "request_id": requestid.current(),
        "dispatched_at": None,
    }
    event_id: int = session.connection().execute(_INSERT_EVENT, values).scalar_one()
    return event_id


def loaded(row: DomainEvent) -> Event:
    """The event of a stored row, its payload validated into the registered model
    (``UnknownEvent`` or pydantic's ``ValidationError`` when it no longer fits)."""
    model = payload_model(row.name)
    return Event(
        name=event_name(row.name),
        payload=model.model_validate(row.payload),
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        actor_id=row.actor_id,
        actor_label=row.actor_label,
        id=row.id,
        occurred_at=row.occurred_at,
    )


def events_of(session: Session, aggregate_type: str, aggregate_id: object) -> list[Event]:
    """The events recorded about one aggregate, oldest first."""
    query = (
        select(DomainEvent)
        .where(
            DomainEvent.aggregate_type == aggregate_type,
            DomainEvent.aggregate_id == str(aggregate_id),
        )
        .order_by(DomainEvent.id)
    )
    return [loaded(row) for row in session.scalars(query)]


# ------------------------------------------------------------------ reporting
def count_by_status(session: Session) -> dict[str, int]:
    """Deliveries per status (every status present), and events not yet dispatched."""
    counts = {"undispatched": 0} | {status.value: 0 for status in DeliveryStatus}
    counts["undispatched"] = (
        session.scalar(
            select(func.count()).select_from(DomainEvent).where(DomainEvent.dispatched_at.is_(None))
        )
        or 0
    )
    rows = session.execute(
        select(EventDelivery.status, func.count()).group_by(EventDelivery.status)
    )
    for status, count in rows:
        counts[str(status)] = count
    return counts


def list_deliveries(
    session: Session, *, status: DeliveryStatus | None = None, limit: int = 50
) -> list[tuple[EventDelivery, DomainEvent]]:
    """Deliveries with their event, newest first; only those of ``status`` when given."""
    query = (
        select(EventDelivery, DomainEvent)
        .join(DomainEvent, DomainEvent.id == EventDelivery.event_id)
        .order_by(EventDelivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(EventDelivery.status == status)
    return [(delivery, event) for delivery, event in session.execute(query)]
