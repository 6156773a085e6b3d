"""The scheduler: leader locks, the process and its fail-over (job runs: test_job_runs.py)."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import insert, select

import cert.cli.scheduler  # noqa: F401 (registers `cert scheduler` and `cert jobs`)
from cert import scheduler
from cert.cli import cli
from core.clock import SystemClock
from core.config import Config, load_config
from core.db import make_session_factory
from core.jobs import (
    JobRun,
    JobStatus,
    apscheduler_jobs,
    slot_for,
)
from tests.dbs import TestDatabase, create_database
from tests.kit.jobs import left_running
from tests.kit.scheduler import (
    LOAD_SLACK,
    POLL,
    SchedulerProcess,
    assert_slots_continue,
    at_least,
    drains_of,
    elect,
    job_runs,
    kill_between_runs,
    runs_of,
    scheduler_env,
    terminate_lock_session,
    wait_until,
)

EVENTS = "events.deliver"  # every second here (CERT_EVENTS_INTERVAL)
EVENTS_PURGE = "events.purge"  # hourly
PURGE = "incidents.purge_idempotency_keys"  # hourly: its current slot runs once at start-up
RUNS = "scheduler.purge_job_runs"  # hourly too
STATS = "db.refresh_statistics"  # every 10 minutes
SESSIONS = "auth.purge_sessions"  # hourly
NOTIFY_MAIL = "incidents.notifications.mail"  # every minute (CERT_NOTIFY_MAIL_INTERVAL)
NOTIFY_SLA = "incidents.notifications.sla"  # every 5 minutes (CERT_NOTIFY_SLA_INTERVAL)
ESCALATE = "incidents.notifications.escalate"  # every 5 minutes too (CERT_NOTIFY_SLA_INTERVAL)
FEEDS_POLL = "feeds.poll_due"  # every minute (CERT_FEEDS_POLL_INTERVAL)
FIRE_SCHEDULES = "playbooks.fire_schedules"  # every minute (CERT_PLAYBOOK_SCHEDULES_INTERVAL)
PLAYBOOKS = "playbooks.advance"  # every 5 seconds (CERT_PLAYBOOKS_INTERVAL)
DIGESTS = "bulletins.digests"  # every 5 minutes (CERT_BULLETIN_DIGEST_INTERVAL)
MAILBOX = "incidents.mailbox.read"  # every minute (CERT_IMAP_INTERVAL); no CERT_IMAP_URL here


# ------------------------------------------------------------------ leader locks
def test_libpq_uri_keeps_credentials_and_options() -> None:
    url = "postgresql+psycopg://vi%40gie:p%2Fw%3A@db.example:6543/vigie?options=-csearch_path%3Dt1"
    assert conninfo_to_dict(scheduler.libpq_uri(url)) == {
        "user": "vi@gie",
        "password": "p/w:",
        "host": "db.example",
        "port": "6543",
        "dbname": "vigie",
        "options": "-csearch_path=t1",
    }
    assert scheduler.libpq_uri("postgresql+psycopg://localhost") == "postgresql://localhost"


def test_file_lock_admits_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = scheduler.FileLock(tmp_path / "l"), scheduler.FileLock(tmp_path / "l")
    try:
        assert first.try_acquire() and first.alive()
        assert not second.try_acquire() and not second.alive()
        first.release()
        assert not first.alive() and second.try_acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.postgres
@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_advisory_lock_admits_one_holder_and_notices_a_lost_session(
    fresh_database: TestDatabase,
) -> None:
    dsn, key = scheduler.libpq_uri(fresh_database.url), random.randint(1, 2**62)
    first, second = scheduler.AdvisoryLock(dsn, key), scheduler.AdvisoryLock(dsn, key)
    try:
        assert first.try_acquire() and first.alive()
        assert not second.try_acquire()
        assert terminate_lock_session(dsn, key) == 1  # e.g. a server restart or a partition
        assert not first.alive()
        wait_until(second.try_acquire, 10, "the lock to be free")
    finally:
        first.release()
        second.release()


def test_liveness_check_exits_when_the_lock_is_lost(tmp_path: Path) -> None:
    lock, exits = scheduler.FileLock(tmp_path / "l"), list[int]()
    try:
        assert lock.try_acquire()
        scheduler.check_leader_lock(lock, exits.append)
        assert exits == []
    finally:
        lock.release()
    scheduler.check_leader_lock(lock, exits.append)
    assert exits == [scheduler.EXIT_LOCK_LOST]


# ------------------------------------------------------------------ the process, in a thread
def _config(db: TestDatabase, tmp_path: Path) -> Config:
    overrides = {
        "database_url": db.url,
        "instance_dir": tmp_path,
        "secret_key": "s" * 40,
        "outbox_interval_seconds": 1,
        "events_interval_seconds": 1,
        "scheduler_poll_seconds": 0.2,
        "scheduler_lock_key": random.randint(1, 2**62),
    }
    return load_config(overrides, environ={})


@pytest.fixture
def in_thread() -> Iterator[list[threading.Thread]]:
    started: list[threading.Thread] = []
    yield started
    for thread in started:
        thread.join(timeout=30)
        assert not thread.is_alive()


def every_job(runs: list[JobRun]) -> list[JobRun] | None:
    """``runs`` once every registered job has one (each runs its current slot at start-up)."""
    return runs if {run.job_id for run in runs} >= set(scheduler.JOBS) else None


def _start(config: Config, started: list[threading.Thread]) -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(
        target=scheduler.run_scheduler, args=(config,), kwargs={"stop_event": stop}
    )
    started.append(thread)
    thread.start()
    return stop


def test_leader_runs_jobs_on_the_grid_and_stops_cleanly(
    fresh_database: TestDatabase, tmp_path: Path, in_thread: list[threading.Thread]
) -> None:
    config = _config(fresh_database, tmp_path)
    with fresh_database.engine.begin() as conn:  # a job left over from an older release
        conn.execute(insert(apscheduler_jobs).values(id="gone.job", job_state=b"x"))
    factory = make_session_factory(fresh_database.engine)
    orphan = left_running(factory, "gone.job", "dead:1", SystemClock().now())
    stop = _start(config, in_thread)
    try:
        wait_until(lambda: every_job(job_runs(fresh_database.engine)), 20, "a run of every job")
        with fresh_database.engine.connect() as conn:
            assert set(conn.scalars(select(apscheduler_jobs.c.id))) == set(scheduler.JOBS)
    finally:
        stop.set()
    in_thread[0].join(timeout=30)
    runs = job_runs(fresh_database.engine)  # stopping lets the last run finish
    abandoned = [run for run in runs if run.id == orphan]
    assert [run.status for run in abandoned] == [JobStatus.ABANDONED]  # by the new leader
    runs = [run for run in runs if run.id != orphan]
    assert {run.job_id for run in runs} == {
        "mail.drain_outbox",
        EVENTS,
        EVENTS_PURGE,
        PURGE,
        RUNS,
        STATS,
        SESSIONS,
        NOTIFY_MAIL,
        NOTIFY_SLA,
        ESCALATE,
        FEEDS_POLL,
        FIRE_SCHEDULES,
        PLAYBOOKS,
        DIGESTS,
        MAILBOX,
    }
    assert {run.job_id for run in runs} == set(scheduler.JOBS)
    assert all(run.status == JobStatus.SUCCESS for run in runs), [(r.status, r.error) for r in runs]
    assert all(run.scheduled_for == slot_for(run.scheduled_for, 1) for run in runs)
    expected = {
        "mail.drain_outbox": {"sent": 0, "retried": 0, "failed": 0},
        EVENTS: {"dispatched": 0, "delivered": 0, "retried": 0, "failed": 0},
        EVENTS_PURGE: {"events": 0, "deliveries": 0},
        PURGE: {"deleted": 0},
        RUNS: {"deleted": 0},
        STATS: {"analysed": 0},  # empty tables: no statistics to refresh (test_statistics.py)
        SESSIONS: {"sessions": 0, "throttles": 0, "reset_links": 0},
        NOTIFY_MAIL: {"dropped": 0, "immediate": 0, "digests": 0, "reporters": 0},
        NOTIFY_SLA: {"due_soon": 0, "breached": 0},
        ESCALATE: {"leads": 0, "national": 0},
        MAILBOX: {"configured": 0},
        FEEDS_POLL: {"polled": 0, "failed": 0, "new": 0, "updated": 0},
        FIRE_SCHEDULES: {"scheduled": 0, "fired": 0, "runs": 0, "skipped": 0, "invalid": 0},
        DIGESTS: {"queued": 0, "done": 0, "not_due": 0, "mails": 0},
        PLAYBOOKS: dict.fromkeys(
            (
                "advanced",
                "completed",
                "failed",
                "waiting",
                "running",
                "cancelled",
                "skipped",
                "errors",
            ),
            0,
        ),  # fmt: skip
    }
    assert all(run.counts == expected[run.job_id] for run in runs), [r.counts for r in runs]
    lock = scheduler.leader_lock(config)  # released on the way out
    try:
        assert lock.try_acquire()
    finally:
        lock.release()


def test_standby_waits_while_the_lock_is_held(
    fresh_database: TestDatabase,
    tmp_path: Path,
    in_thread: list[threading.Thread],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO, logger="cert.scheduler")
    config = _config(fresh_database, tmp_path)
    holder = scheduler.leader_lock(config)
    try_acquire = type(holder).try_acquire
    polls: list[bool] = []  # the standby's attempts, observed

    def observed(lock: scheduler.LeaderLock) -> bool:
        acquired = try_acquire(lock)
        if lock is not holder:
            polls.append(acquired)
        return acquired

    monkeypatch.setattr(type(holder), "try_acquire", observed)
    try:
        assert holder.try_acquire()
        stop = _start(config, in_thread)
        wait_until(lambda: "scheduler: standby" in caplog.text, 20, "the standby line")
        # several polls: still standby, announced once, nothing run
        wait_until(lambda: len(polls) >= 3, 20, "three polls of the standby")
        stop.set()
        in_thread[0].join(timeout=30)
    finally:
        holder.release()
    assert not any(polls)
    assert caplog.text.count("scheduler: standby") == 1
    assert "scheduler: leader" not in caplog.text
    assert job_runs(fresh_database.engine) == []


# ------------------------------------------------------------------ command line
def test_scheduler_help_explains_leader_and_standby() -> None:
    result = CliRunner().invoke(cli, ["scheduler", "--help"])
    assert result.exit_code == 0
    assert "leader" in result.output and "standby" in result.output


# ------------------------------------------------------------------ real processes
@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for process in started:
        process.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_standby_takes_over_within_two_seconds(
    tmp_path: Path, processes: list[SchedulerProcess]
) -> None:
    db = create_database("postgresql", tmp_path)
    try:
        env = scheduler_env(db.url, tmp_path)
        processes += [SchedulerProcess(env), SchedulerProcess(env)]
        leader, standby = elect(processes)
        killed_at, killed_wall = kill_between_runs(db, leader)
        took_over = standby.wait_for(f"scheduler: leader (pid {standby.pid}", 10) - killed_at
        first = wait_until(lambda: runs_of(job_runs(db.engine), standby), 10, "a new run")[0]
        wait_until(lambda: at_least(3, drains_of(job_runs(db.engine), standby)), 20, "3 new drains")
        assert standby.stop() == 0
        assert "leader lock released" in standby.output()
        assert_slots_continue(db, leader, standby, killed_wall=killed_wall)
    finally:
        for process in processes:
            process.close()
        db.drop()
    first_run_after = first.started_at.timestamp() - killed_wall
    print(f"take-over: leader after {took_over:.3f}s, first new run after {first_run_after:.3f}s")
    assert took_over <= 2.0
    assert first_run_after <= 3.0


@pytest.mark.slow
def test_sqlite_one_leader_per_database_file(
    tmp_path: Path, processes: list[SchedulerProcess]
) -> None:
    db = create_database("sqlite", tmp_path)
    try:
        env = scheduler_env(db.url, tmp_path)
        processes += [SchedulerProcess(env), SchedulerProcess(env)]
        leader, standby = elect(processes)
        killed_at, killed_wall = kill_between_runs(db, leader)
        took_over = standby.wait_for(f"scheduler: leader (pid {standby.pid}", 30) - killed_at
        wait_until(lambda: at_least(2, drains_of(job_runs(db.engine), standby)), 30, "new drains")
        assert standby.stop() == 0
        assert_slots_continue(db, leader, standby, killed_wall=killed_wall)
    finally:
        db.drop()
    # the lock file is free once the leader is dead: the standby takes it at its next poll
    print(f"take-over: leader after {took_over:.3f}s")
    assert took_over <= (POLL + LOAD_SLACK).total_seconds()


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_leader_exits_when_its_lock_session_dies(
    tmp_path: Path, processes: list[SchedulerProcess]
) -> None:
    db = create_database("postgresql", tmp_path)
    try:
        env = scheduler_env(db.url, tmp_path)
        processes.append(SchedulerProcess(env))
        leader = processes[0]
        leader.wait_for(f"scheduler: leader (pid {leader.pid}", 60)
        key = int(env["CERT_SCHEDULER_LOCK_KEY"])
        assert terminate_lock_session(scheduler.libpq_uri(db.url), key) == 1
        assert leader.proc.wait(timeout=scheduler.LIVENESS_SECONDS + 20) == scheduler.EXIT_LOCK_LOST
        assert "scheduler: leader lock lost" in leader.output()
    finally:
        for process in processes:
            process.close()
        db.drop()
