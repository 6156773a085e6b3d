"""A backlog of domain events worked off in one run of the dispatcher (``time_slice``), and by
the scheduler's ``events.deliver`` job: a burst of 1,000 reports is 1,000 events times the
handlers subscribed to ``incident.submitted``, which 100 deliveries every 5 s could not keep up
with (both databases, real commits)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cert import event_handlers, scheduler
from core.clock import SystemClock
from core.config import load_config
from core.db import SessionFactory
from core.events import Event, Handler, deliver_events
from tests.dbs import TestDatabase
from tests.kit.events import Probe, effect, effects, record

HANDLERS = [Handler("a", {Probe.PINGED}, effect("a")), Handler("b", {Probe.PINGED}, effect("b"))]


def test_one_batch_per_run_without_a_time_slice(factory: SessionFactory) -> None:
    record(factory, SystemClock(), *range(25))
    counts = deliver_events(factory, HANDLERS, clock=SystemClock(), batch_size=10)
    assert counts == {"dispatched": 20, "delivered": 10, "retried": 0, "failed": 0}


def test_a_time_slice_goes_on_while_batches_are_full(factory: SessionFactory) -> None:
    ids = record(factory, SystemClock(), *range(25))
    counts = deliver_events(factory, HANDLERS, clock=SystemClock(), batch_size=10, time_slice=60)
    assert counts == {"dispatched": 50, "delivered": 50, "retried": 0, "failed": 0}
    assert effects(factory) == {(name, str(i)): 1 for name in ("a", "b") for i in ids}
    again = deliver_events(factory, HANDLERS, clock=SystemClock(), batch_size=10, time_slice=60)
    assert again == {"dispatched": 0, "delivered": 0, "retried": 0, "failed": 0}


def test_the_time_slice_bounds_the_run(factory: SessionFactory) -> None:
    record(factory, SystemClock(), *range(30))

    def slow(session: Session, event: Event) -> None:
        time.sleep(0.02)  # a batch of 10: 0.2 s, past the slice

    handlers = [Handler("slow", {Probe.PINGED}, slow)]
    counts = deliver_events(factory, handlers, clock=SystemClock(), batch_size=10, time_slice=0.1)
    assert counts == {"dispatched": 10, "delivered": 10, "retried": 0, "failed": 0}


def test_the_delivery_job_works_off_a_burst_in_one_run(
    fresh_database: TestDatabase,
    factory: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = record(factory, SystemClock(), *range(260))  # 520 deliveries: 6 batches of 100
    monkeypatch.setattr(event_handlers, "HANDLERS", tuple(HANDLERS))
    config = load_config(
        {"database_url": fresh_database.url, "instance_dir": tmp_path, "secret_key": "s" * 40},
        environ={},
    )
    context = scheduler.open_context(config)
    try:
        counts = scheduler.JOBS["events.deliver"].resolve()(context)
    finally:
        scheduler.close_context()
    assert counts == {"dispatched": 520, "delivered": 520, "retried": 0, "failed": 0}
    assert effects(factory) == {(name, str(i)): 1 for name in ("a", "b") for i in ids}


def test_a_failing_handler_in_a_shared_transaction_undoes_only_its_own_writes(
    factory: SessionFactory,
) -> None:
    ids = record(factory, SystemClock(), *range(6))  # 12 deliveries: one transaction holds 10
    write = effect("picky")

    def picky(session: Session, event: Event) -> None:
        write(session, event)  # its effect, then it fails on even events
        if getattr(event.payload, "n", 0) % 2 == 0:
            raise RuntimeError("even")

    handlers = [HANDLERS[0], Handler("picky", {Probe.PINGED}, picky)]
    counts = deliver_events(factory, handlers, clock=SystemClock())
    assert counts == {"dispatched": 12, "delivered": 9, "retried": 3, "failed": 0}
    odd = {("picky", str(i)): 1 for n, i in enumerate(ids) if n % 2}
    assert effects(factory) == {("a", str(i)): 1 for i in ids} | odd
