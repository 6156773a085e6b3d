"""The adapters of the domain-event dispatcher: the scheduler's ``events.deliver`` and
``events.purge`` jobs and ``cert events list`` / ``deliver`` / ``purge`` (both databases, real
commits)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

import cert.cli.events  # noqa: F401 (registers `cert events`)
from bulletins.settings import BulletinSettings
from cert import event_handlers, scheduler
from cert.cli import CliContext, cli
from core.clock import FrozenClock, SystemClock
from core.config import ConfigError, load_config
from core.db import SessionFactory
from core.events import DomainEvent, Event, Handler, deliver_events
from core.uow import transaction
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


def test_the_job_and_the_command_hand_each_handler_its_slices_settings(
    fresh_database: TestDatabase,
    factory: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``CERT_NAME`` reaches a handler taking the bulletins' settings, built from the
    configuration by the scheduler's context and by ``cert events deliver``."""

    def named(session: Session, event: Event, settings: BulletinSettings) -> None:
        effect(settings.cert_name)(session, event)

    handler = Handler.with_settings(
        "named", {Probe.PINGED}, named, slice_name="bulletins", kind=BulletinSettings
    )
    monkeypatch.setattr(event_handlers, "HANDLERS", (handler,))
    [first] = record(factory, SystemClock(), 1)
    config = load_config(
        {"database_url": fresh_database.url, "instance_dir": tmp_path, "secret_key": "s" * 40,
         "cert_name": "CERT du job"},
        environ={},
    )  # fmt: skip
    context = scheduler.open_context(config)
    try:
        assert scheduler.JOBS["events.deliver"].resolve()(context)["delivered"] == 1
    finally:
        scheduler.close_context()
    [second] = record(factory, SystemClock(), 2)
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SECRET_KEY": "k" * 40,
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_NAME": "CERT de la commande",
    }
    cli_context = CliContext()  # the `cert` group gives it the slices' settings hooks
    try:
        result = CliRunner().invoke(cli, ["events", "deliver"], env=env, obj=cli_context)
    finally:
        if "engine" in vars(cli_context):
            cli_context.engine.dispose()
    assert result.exit_code == 0, result.output
    assert effects(factory) == {
        ("CERT du job", str(first)): 1,
        ("CERT de la commande", str(second)): 1,
    }


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


def test_the_purge_job_is_hourly_and_reads_its_retention(tmp_path: Path) -> None:
    job = scheduler.JOBS["events.purge"]
    assert job.interval == 3600 and job.resolve() is scheduler.adapters.purge_events
    environ = {"CERT_INSTANCE_DIR": str(tmp_path)}
    assert load_config(environ=environ).events_retention_days == 30
    week = {**environ, "CERT_EVENTS_RETENTION_DAYS": "7"}
    assert load_config(environ=week).events_retention_days == 7
    for wrong in ("0", "3651", "a month"):
        with pytest.raises(ConfigError, match="CERT_EVENTS_RETENTION_DAYS"):
            load_config(environ={**environ, "CERT_EVENTS_RETENTION_DAYS": wrong})


def test_the_purge_job_and_command_delete_old_delivered_events(
    fresh_database: TestDatabase, factory: SessionFactory, tmp_path: Path
) -> None:
    def picky(session: Session, event: Event) -> None:
        if getattr(event.payload, "n", None) == 2:
            raise RuntimeError("not this one")

    handlers = [
        Handler("audit", {Probe.PINGED}, effect("audit")),
        Handler("picky", {Probe.PINGED}, picky),
    ]
    now = dt.datetime.now(dt.UTC)
    old = FrozenClock(now - dt.timedelta(days=40))
    record(factory, old, 1, 2)
    deliver_events(factory, handlers, clock=old, max_attempts=1)  # 2: failed for picky
    recent = FrozenClock(now - dt.timedelta(days=10))
    [young] = record(factory, recent, 3)
    deliver_events(factory, handlers, clock=recent)
    config = load_config(
        {"database_url": fresh_database.url, "instance_dir": tmp_path, "secret_key": "s" * 40},
        environ={},
    )
    context = scheduler.open_context(config)
    try:
        counts = scheduler.JOBS["events.purge"].resolve()(context)
    finally:
        scheduler.close_context()
    assert counts == {"events": 1, "deliveries": 2}  # event 1; event 2 is owed to picky

    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SECRET_KEY": "k" * 40,
        "CERT_INSTANCE_DIR": str(tmp_path),
    }

    def purge(*args: str) -> str:
        result = CliRunner().invoke(cli, ["events", "purge", *args], env=env, obj=CliContext())
        assert result.exit_code == 0, result.output
        return result.output.strip()

    assert purge() == "events: 0  deliveries: 0"  # CERT_EVENTS_RETENTION_DAYS: 30 by default
    assert purge("--older-than-days", "5") == "events: 1  deliveries: 2"
    with transaction(factory) as session:
        [(left, n)] = session.execute(select(DomainEvent.id, DomainEvent.payload["n"].as_integer()))
    assert left != young and n == 2
    refused = CliRunner().invoke(cli, ["events", "purge", "--older-than-days", "-1"], env=env)
    assert refused.exit_code == 2 and "--older-than-days" in refused.output
