"""Durable domain events (``core.events``): delivered events are purged after
``CERT_EVENTS_RETENTION_DAYS`` in batches, through an index, and events still owed a delivery
stay — on both databases."""

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.db import SessionFactory
from core.events import (
    DeliveryStatus,
    DomainEvent,
    Event,
    EventDelivery,
    Handler,
    deliver_events,
    purge_events,
    record_event,
)
from core.events.purge import purgeable
from core.uow import transaction
from tests.kit.events import (
    ACTOR,
    Ping,
    Pong,
    Probe,
    deliveries,
    effect,
    effects,
    record,
)


def event_ids(factory: SessionFactory) -> list[int]:
    with transaction(factory) as session:
        return list(session.scalars(select(DomainEvent.id).order_by(DomainEvent.id)))


def test_delivered_events_past_the_retention_go_and_owed_ones_stay(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    def picky(session: Session, event: Event) -> None:
        assert isinstance(event.payload, Ping)
        if event.payload.n in (2, 3):
            raise RuntimeError("not this one")

    handlers = [Handler("a", {Probe.PINGED}, effect("a")), Handler("picky", {Probe.PINGED}, picky)]
    long_ago = FrozenClock(clock.now())
    done, failed = record(factory, clock, 1, 2)
    deliver_events(factory, handlers, clock=clock, max_attempts=1)  # 2: picky gave up
    [pending] = record(factory, clock, 3)
    deliver_events(factory, handlers, clock=clock)  # 3: picky will try again
    with transaction(factory) as session:  # no handler subscribes to pongs
        pong = Event.of(Probe.PONGED, Pong(n=4), aggregate=("probe", 4), actor=ACTOR)
        unheard = record_event(session, pong, clock=clock)
    clock.advance(days=31)
    [young] = record(factory, clock, 6)
    deliver_events(factory, handlers, clock=clock)  # 6 delivered, 3 retried: still pending
    [undispatched] = record(factory, long_ago, 5)  # as old as the others, not dispatched yet
    assert {(d.event_id, d.handler, d.status) for d in deliveries(factory)} == {
        (done, "a", DeliveryStatus.DONE),
        (done, "picky", DeliveryStatus.DONE),
        (failed, "a", DeliveryStatus.DONE),
        (failed, "picky", DeliveryStatus.FAILED),
        (pending, "a", DeliveryStatus.DONE),
        (pending, "picky", DeliveryStatus.PENDING),
        (young, "a", DeliveryStatus.DONE),
        (young, "picky", DeliveryStatus.DONE),
    }

    cutoff = clock.now() - dt.timedelta(days=30)
    assert purge_events(factory, older_than=cutoff) == {"events": 2, "deliveries": 2}
    assert unheard not in event_ids(factory)
    assert event_ids(factory) == [failed, pending, young, undispatched]
    assert {d.event_id for d in deliveries(factory)} == {failed, pending, young}
    assert effects(factory)[("a", str(done))] == 1  # the handlers' effects are not touched
    assert purge_events(factory, older_than=cutoff) == {"events": 0, "deliveries": 0}
    # once its last delivery is done, an owed event goes too
    with transaction(factory) as session:
        picky_rows = select(EventDelivery).where(EventDelivery.handler == "picky")
        for delivery in session.scalars(picky_rows):
            delivery.status = DeliveryStatus.DONE
    counts = purge_events(factory, older_than=cutoff, batch_size=1)
    assert counts == {"events": 2, "deliveries": 4}
    assert event_ids(factory) == [young, undispatched]


def test_the_purge_works_in_batches_and_refuses_an_empty_one(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    record(factory, clock, *range(7))
    deliver_events(factory, [Handler("a", {Probe.PINGED}, effect("a"))], clock=clock)
    clock.advance(days=1)
    assert purge_events(factory, older_than=clock.now(), batch_size=3) == {
        "events": 7,
        "deliveries": 7,
    }
    assert event_ids(factory) == [] and deliveries(factory) == []
    with pytest.raises(ValueError, match="batch_size must be positive"):
        purge_events(factory, older_than=clock.now(), batch_size=0)


def test_the_purge_finds_old_events_through_an_index(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    """It runs every hour over tables that grow with every change: on a busy server's history
    (two years of delivered events, one every ten minutes, every delivery done, the oldest few
    past the retention, analysed) the old events come from ``ix_domain_events_occurred_at`` and
    the check for owed deliveries from an index — on PostgreSQL the small partial index of
    those, never a scan of the whole deliveries table (which it chose with only the unique index
    to probe)."""
    with transaction(factory) as session:
        now, step = clock.now(), dt.timedelta(minutes=10)
        if session.get_bind().dialect.name == "sqlite":  # the dates as UtcDateTime stores them
            session.execute(
                text(
                    "INSERT INTO domain_events (name, payload, aggregate_type, aggregate_id,"
                    " occurred_at, dispatched_at) VALUES ('incident.submitted', '{}', 'incident',"
                    " :ref, :at, :at)"
                ),
                [
                    {"ref": f"MACERT-{n}", "at": (now - n * step).strftime("%Y-%m-%d %H:%M:%S.%f")}
                    for n in range(1, 100_001)
                ],
            )
        else:
            session.execute(
                text(
                    "INSERT INTO domain_events (name, payload, aggregate_type, aggregate_id,"
                    " occurred_at, dispatched_at) SELECT 'incident.submitted', '{}', 'incident',"
                    " 'MACERT-' || n, :now - n * :step, :now - n * :step"
                    " FROM generate_series(1, 100000) AS n"
                ),
                {"now": now, "step": step},
            )
        session.execute(
            text(
                "INSERT INTO domain_event_deliveries (event_id, handler, status, attempts,"
                " next_attempt_at, delivered_at) SELECT id, 'notify', 'done', 1, dispatched_at,"
                " dispatched_at FROM domain_events"
            )
        )
        session.execute(text("ANALYZE"))
        cutoff = now - dt.timedelta(days=690)
        statement = purgeable(cutoff).limit(1000)
        sql = str(statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        if session.get_bind().dialect.name == "sqlite":
            rows = session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            plan = " ".join(str(row[-1]) for row in rows)
        else:
            plan = " ".join(str(row[0]) for row in session.execute(text(f"EXPLAIN {sql}")))
        assert len(list(session.scalars(statement))) == 100_000 - 690 * 144  # the oldest
    assert "ix_domain_events_occurred_at" in plan, plan
    # PostgreSQL probes the partial index; SQLite, per event, the unique (event_id, handler) one
    by_index = ("ix_domain_event_deliveries_owed", "sqlite_autoindex_domain_event_deliveries")
    assert any(name in plan for name in by_index), plan
    assert "Seq Scan on domain_event_deliveries" not in plan, plan
    assert "SCAN domain_event_deliveries" not in plan, plan
