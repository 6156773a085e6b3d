"""The adapters of the domain-event dispatcher: the scheduler's ``events.deliver`` job and
``cert events list`` / ``cert events deliver`` (both databases, real commits)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

import cert.cli.events  # noqa: F401 (registers `cert events`)
from cert import event_handlers, scheduler
from cert.cli import CliContext, cli
from core.clock import FrozenClock, SystemClock
from core.config import load_config
from core.db import SessionFactory
from core.events import Event, Handler, deliver_events
from tests.dbs import TestDatabase
from tests.kit.events import Probe, effect, effects, record


def test_the_delivery_job_is_registered_with_its_interval_setting() -> None:
    job = scheduler.JOBS["events.deliver"]
    assert job.interval == "events_interval_seconds"
    assert job.interval_seconds(load_config({"events_interval_seconds": 7}, environ={})) == 7
    assert job.resolve() is scheduler.adapters.deliver_events


def test_the_delivery_job_hands_events_to_the_slices_handlers(
    fresh_database: TestDatabase,
    factory: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [event_id] = record(factory, SystemClock(), 1)
    handler = Handler("audit", {Probe.PINGED}, effect("audit"))
    monkeypatch.setattr(event_handlers, "HANDLERS", (handler,))
    config = load_config(
        {"database_url": fresh_database.url, "instance_dir": tmp_path, "secret_key": "s" * 40},
        environ={},
    )
    context = scheduler.open_context(config)
    try:
        counts = scheduler.JOBS["events.deliver"].resolve()(context)
        again = scheduler.JOBS["events.deliver"].resolve()(context)
    finally:
        scheduler.close_context()
    assert counts == {"dispatched": 1, "delivered": 1, "retried": 0, "failed": 0}
    assert again == {"dispatched": 0, "delivered": 0, "retried": 0, "failed": 0}
    assert effects(factory) == {("audit", str(event_id)): 1}


def test_cli_lists_failed_deliveries_and_delivers(
    fresh_database: TestDatabase,
    factory: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FrozenClock()

    def broken(session: Session, event: Event) -> None:
        raise RuntimeError("index offline")

    record(factory, clock, 1, 2)
    deliver_events(
        factory, [Handler("broken", {Probe.PINGED}, broken)], clock=clock, max_attempts=1
    )
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SECRET_KEY": "k" * 40,
        "CERT_INSTANCE_DIR": str(tmp_path),
    }
    context = CliContext()
    try:
        result = CliRunner().invoke(
            cli, ["events", "list", "--status", "failed", "--limit", "1"], env=env, obj=context
        )
        assert result.exit_code == 0, result.output
        counts, *rows = result.output.splitlines()
        assert counts == "undispatched: 0  pending: 0  done: 0  failed: 2"
        [row] = rows  # --limit 1: the newest
        assert "\tevent 2\t" in row and "probe.pinged\tprobe:2\tbroken\tfailed" in row
        assert "attempts=1" in row and row.endswith("RuntimeError: index offline")

        refused = CliRunner().invoke(cli, ["events", "list", "--status", "lost"], env=env)
        assert refused.exit_code == 2 and "'lost' is not one of" in refused.output

        record(factory, clock, 3)
        handler = Handler("audit", {Probe.PINGED}, effect("audit"))
        monkeypatch.setattr(event_handlers, "HANDLERS", (handler,))
        result = CliRunner().invoke(cli, ["events", "deliver"], env=env, obj=context)
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "dispatched: 1  delivered: 1  retried: 0  failed: 0"
        pending = CliRunner().invoke(
            cli, ["events", "list", "--status", "pending"], env=env, obj=context
        )
        assert pending.output.splitlines() == ["undispatched: 0  pending: 0  done: 1  failed: 2"]
    finally:
        if "engine" in vars(context):
            context.engine.dispose()
