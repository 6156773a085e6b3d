"""Durable domain events (``core.events``), on both databases with real commits: an event is
written in the transaction of its change, and the dispatcher delivers it at most once per
(event, handler), retrying a failing handler with back-off until it gives up."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock, SystemClock
from core.db import SessionFactory
from core.events import (
    DeliveryStatus,
    DomainEvent,
    Event,
    EventName,
    Handler,
    UnknownEvent,
    deliver_events,
    record_event,
    register_events,
)
from core.uow import transaction
from tests.kit.events import (
    ACTOR,
    Ping,
    Pong,
    Probe,
    deliveries,
    effect,
    effects,
    ping,
    record,
)


def event_count(factory: SessionFactory) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(DomainEvent)) or 0


# ------------------------------------------------------------------ recording
def test_an_event_of_a_rolled_back_transaction_leaves_no_row(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    with factory() as session:
        record_event(session, ping(1), clock=clock)
        assert event_count(factory) == 0  # written in the caller's transaction, not committed
        session.rollback()
    with factory() as session, session.begin():
        savepoint = session.begin_nested()
        record_event(session, ping(2), clock=clock)
        savepoint.rollback()
    assert event_count(factory) == 0
    [event_id] = record(factory, clock, 3)
    with transaction(factory) as session:
        row = session.get_one(DomainEvent, event_id)
        assert (row.name, row.payload, row.aggregate_type, row.aggregate_id) == (
            "probe.pinged",
            {"n": 3, "note": None},
            "probe",
            "3",
        )
        assert (row.occurred_at, row.actor_id, row.actor_label) == (clock.now(), None, "test")
        assert row.dispatched_at is None


def test_the_payload_is_validated_against_its_registered_model(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    with factory() as session:
        wrong_model = Event.of(Probe.PINGED, Pong(n=1), aggregate=("probe", 1), actor=ACTOR)
        with pytest.raises(TypeError, match="takes a Ping payload, got Pong"):
            record_event(session, wrong_model, clock=clock)
        built_unchecked = Ping.model_construct(n="not a number")
        event = Event.of(Probe.PINGED, built_unchecked, aggregate=("probe", 1), actor=ACTOR)
        with pytest.raises(ValidationError):
            record_event(session, event, clock=clock)

        class Unregistered(EventName):
            LOST = "probe.lost"

        lost = Event.of(Unregistered.LOST, Ping(n=1), aggregate=("probe", 1), actor=ACTOR)
        with pytest.raises(UnknownEvent):
            record_event(session, lost, clock=clock)
        session.commit()
    assert event_count(factory) == 0


def test_a_name_is_registered_with_one_payload_model_only() -> None:
    register_events({Probe.PINGED: Ping})  # again, same model: nothing changes
    with pytest.raises(ValueError, match="already registered with Ping"):
        register_events({Probe.PINGED: Pong})
    with pytest.raises(TypeError):
        register_events({"probe.raw": Ping})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="non-empty set"):
        Handler("nothing", set(), effect("nothing"))


# ------------------------------------------------------------------ delivery
def test_each_subscribed_handler_gets_each_event_once(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    seen: list[Event] = []
    handlers = [
        Handler("audit", {Probe.PINGED}, effect("audit", seen)),
        Handler("other", {Probe.PINGED, Probe.PONGED}, effect("other")),
        Handler("pongs-only", {Probe.PONGED}, effect("pongs-only")),
    ]
    ids = record(factory, clock, 1, 2)
    counts = deliver_events(factory, handlers, clock=clock)
    assert counts == {"dispatched": 4, "delivered": 4, "retried": 0, "failed": 0}
    expected = {(name, str(i)): 1 for name in ("audit", "other") for i in ids}
    assert effects(factory) == expected
    assert [(e.id, e.name, e.payload, e.aggregate_id, e.actor_label) for e in seen] == [
        (ids[0], Probe.PINGED, Ping(n=1), "1", "test"),
        (ids[1], Probe.PINGED, Ping(n=2), "2", "test"),
    ]
    assert all(isinstance(e.payload, Ping) and e.occurred_at == clock.now() for e in seen)
    assert {(d.status, d.attempts, d.delivered_at) for d in deliveries(factory)} == {
        (DeliveryStatus.DONE, 1, clock.now())
    }

    clock.advance(hours=1)
    again = deliver_events(factory, handlers, clock=clock)
    assert again == {"dispatched": 0, "delivered": 0, "retried": 0, "failed": 0}
    assert effects(factory) == expected


@dataclass(frozen=True)
class ProbeSettings:
    label: str


def test_a_handler_with_settings_gets_its_slices_and_a_run_without_them_stops_first(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    def labelled(session: Session, event: Event, settings: ProbeSettings) -> None:
        effect(settings.label)(session, event)

    handler = Handler.with_settings(
        "labelled", {Probe.PINGED}, labelled, slice_name="probes", kind=ProbeSettings
    )
    [event_id] = record(factory, clock, 1)
    for wrong in ({}, {"probes": "not settings"}, {"other": ProbeSettings("x")}):
        with pytest.raises(ValueError, match="handler labelled: no ProbeSettings settings for"):
            deliver_events(factory, [handler], clock=clock, settings=wrong)
    assert event_count(factory) == 1 and deliveries(factory) == []  # nothing dispatched
    settings = {"probes": ProbeSettings("from-settings"), "other": ProbeSettings("other")}
    counts = deliver_events(factory, [handler], clock=clock, settings=settings)
    assert counts == {"dispatched": 1, "delivered": 1, "retried": 0, "failed": 0}
    assert effects(factory) == {("from-settings", str(event_id)): 1}


def test_a_handler_that_fails_once_is_retried_and_its_effect_appears_once(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    calls: list[int] = []

    def flaky(session: Session, event: Event) -> None:
        calls.append(1)
        effect("flaky")(session, event)  # written, then rolled back with the failure
        session.flush()
        if len(calls) == 1:
            raise ConnectionError("search index unreachable")

    handlers = [
        Handler("flaky", {Probe.PINGED}, flaky),
        Handler("steady", {Probe.PINGED}, effect("steady")),
    ]
    [event_id] = record(factory, clock, 1)
    first = deliver_events(factory, handlers, clock=clock)
    assert first == {"dispatched": 2, "delivered": 1, "retried": 1, "failed": 0}
    assert effects(factory) == {("steady", str(event_id)): 1}
    [failing] = [d for d in deliveries(factory) if d.handler == "flaky"]
    assert (failing.status, failing.attempts) == (DeliveryStatus.PENDING, 1)
    assert failing.last_error == "ConnectionError: search index unreachable"
    assert failing.next_attempt_at == clock.now() + dt.timedelta(seconds=5)  # back-off

    assert deliver_events(factory, handlers, clock=clock)["delivered"] == 0  # not due yet
    clock.advance(seconds=5)
    assert deliver_events(factory, handlers, clock=clock) == {
        "dispatched": 0,
        "delivered": 1,
        "retried": 0,
        "failed": 0,
    }
    assert effects(factory) == {("steady", str(event_id)): 1, ("flaky", str(event_id)): 1}
    [done] = [d for d in deliveries(factory) if d.handler == "flaky"]
    assert (done.status, done.attempts, done.delivered_at) == (DeliveryStatus.DONE, 2, clock.now())
    assert len(calls) == 2


def test_a_handler_that_always_fails_is_marked_failed_after_the_maximum_attempts(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    def broken(session: Session, event: Event) -> None:
        raise RuntimeError(f"cannot handle {event.name}")

    handlers = [Handler("broken", {Probe.PINGED}, broken)]
    record(factory, clock, 1)
    outcomes = []
    for _ in range(4):
        counts = deliver_events(factory, handlers, clock=clock, max_attempts=3)
        outcomes.append((counts["retried"], counts["failed"]))
        clock.advance(hours=1)  # past any back-off
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0)]
    [delivery] = deliveries(factory)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error == "RuntimeError: cannot handle probe.pinged"
    assert delivery.delivered_at is None


def test_an_event_whose_stored_payload_no_longer_fits_fails_its_delivery(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    [event_id] = record(factory, clock, 1)
    with transaction(factory) as session:
        session.get_one(DomainEvent, event_id).payload = {"n": "one"}
    handlers = [Handler("audit", {Probe.PINGED}, effect("audit"))]
    counts = deliver_events(factory, handlers, clock=clock, max_attempts=1)
    assert counts["failed"] == 1 and effects(factory) == {}
    assert "ValidationError" in (deliveries(factory)[0].last_error or "")


def test_events_without_subscriber_are_dispatched_without_delivery(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    record(factory, clock, 1, 2)
    handlers = [Handler("pongs", {Probe.PONGED}, effect("pongs"))]
    assert deliver_events(factory, handlers, clock=clock)["dispatched"] == 0
    with transaction(factory) as session:
        undispatched = select(DomainEvent).where(DomainEvent.dispatched_at.is_(None))
        assert session.scalars(undispatched).all() == []
    assert deliveries(factory) == []
    with pytest.raises(ValueError, match="two handlers are named pongs"):
        deliver_events(factory, [*handlers, *handlers], clock=clock)


def test_two_concurrent_dispatchers_deliver_each_event_once_per_handler(
    factory: SessionFactory,
) -> None:
    clock = SystemClock()
    ids = record(factory, clock, *range(40))

    def slow(name: str) -> Callable[[Session, Event], None]:
        write = effect(name)

        def handle(session: Session, event: Event) -> None:
            write(session, event)
            time.sleep(0.002)  # let the other dispatcher run meanwhile

        return handle

    handlers = [Handler("a", {Probe.PINGED}, slow("a")), Handler("b", {Probe.PINGED}, slow("b"))]
    start = threading.Barrier(2)
    totals: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            while counts := deliver_events(factory, handlers, clock=clock, batch_size=7):
                totals.append(counts)
                if not counts["dispatched"] and not counts["delivered"]:
                    break
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert effects(factory) == {(name, str(i)): 1 for name in ("a", "b") for i in ids}
    assert sum(c["delivered"] for c in totals) == sum(c["dispatched"] for c in totals) == 80
    assert {d.status for d in deliveries(factory)} == {DeliveryStatus.DONE}


def test_a_handler_failing_on_a_database_error_is_retried_like_any_other(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    """PostgreSQL aborts a transaction on an error: the savepoint around the handler keeps the
    delivery's own transaction usable, so the failed attempt is still recorded."""

    def clashing(session: Session, event: Event) -> None:
        effect("clashing")(session, event)
        session.execute(
            insert(DomainEvent).values(
                id=event.id,  # taken: IntegrityError on both databases
                name="probe.pinged",
                payload={"n": 0},
                aggregate_type="probe",
                aggregate_id="0",
                occurred_at=clock.now(),
            )
        )

    record(factory, clock, 1)
    handlers = [Handler("clashing", {Probe.PINGED}, clashing)]
    assert deliver_events(factory, handlers, clock=clock)["retried"] == 1
    [delivery] = deliveries(factory)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert (delivery.last_error or "").startswith("IntegrityError")
    assert effects(factory) == {} and event_count(factory) == 1


# ------------------------------------------------------------------ purge
