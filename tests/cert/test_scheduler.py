"""The scheduler: slot guard (cert.jobs), leader locks, the process and its fail-over."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import func, insert, select, text

import cert.cli.scheduler  # noqa: F401 (registers `cert scheduler` and `cert jobs`)
from cert import scheduler
from cert.cli import cli
from cert.clock import FrozenClock, SystemClock
from cert.config import Config, load_config
from cert.db import SessionFactory, make_session_factory
from cert.jobs import (
    JobRun,
    JobStatus,
    abandon_orphaned_runs,
    apscheduler_jobs,
    list_job_runs,
    purge_job_runs,
    run_slot,
    slot_for,
)
from tests.cert.scheduler_processes import (
    SchedulerProcess,
    assert_slots_continue,
    at_least,
    elect,
    job_runs,
    kill_between_runs,
    runs_of,
    scheduler_env,
    terminate_lock_session,
    wait_until,
)
from tests.dbs import TestDatabase, create_database
from tests.factories import make_org, make_user

SLOT = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
PURGE = "incidents.purge_idempotency_keys"  # hourly: its current slot runs once at start-up
RUNS = "scheduler.purge_job_runs"  # hourly too
STATS = "db.refresh_statistics"  # daily


@pytest.fixture
def factory(fresh_database: TestDatabase) -> SessionFactory:
    return make_session_factory(fresh_database.engine)


def _counting(calls: list[int], counts: Mapping[str, int] | None = None) -> Mapping[str, int]:
    calls.append(1)
    return counts or {"sent": 0}


# ------------------------------------------------------------------ slots and the run guard
def test_slot_for_floors_to_an_epoch_aligned_grid() -> None:
    now = dt.datetime(2026, 1, 15, 9, 0, 59, 999_999, tzinfo=dt.UTC)
    assert slot_for(now, 30) == dt.datetime(2026, 1, 15, 9, 0, 30, tzinfo=dt.UTC)
    assert slot_for(now, 60) == dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    assert slot_for(now, 7) == dt.datetime.fromtimestamp(now.timestamp() // 7 * 7, dt.UTC)
    assert slot_for(SLOT, 30) == SLOT  # a grid point is its own slot
    other_zone = now.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert slot_for(other_zone, 30) == slot_for(now, 30)
    assert slot_for(now, 1).tzinfo == dt.UTC


@pytest.mark.parametrize("interval", [0, -5])
def test_slot_for_rejects_bad_input(interval: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        slot_for(SLOT, interval)
    with pytest.raises(ValueError, match="aware"):
        slot_for(dt.datetime(2026, 1, 15), 30)  # noqa: DTZ001 (the point of the test)


def test_run_slot_runs_a_slot_once(factory: SessionFactory) -> None:
    clock, calls = FrozenClock(), list[int]()
    first = run_slot(
        factory, "t.job", SLOT, lambda: _counting(calls, {"sent": 2}), clock=clock, runner="h:1"
    )
    second = run_slot(factory, "t.job", SLOT, lambda: _counting(calls), clock=clock, runner="h:2")
    other = run_slot(factory, "t.other", SLOT, lambda: _counting(calls), clock=clock, runner="h:2")
    assert second is None and len(calls) == 2 and first is not None and other is not None
    with factory() as session:
        stored = session.get_one(JobRun, first.id)
        assert (stored.status, stored.counts, stored.runner) == (
            JobStatus.SUCCESS,
            {"sent": 2},
            "h:1",
        )
        assert stored.scheduled_for == SLOT and stored.duration == dt.timedelta(0)
        assert [r.job_id for r in list_job_runs(session, job_id="t.job")] == ["t.job"]


def test_run_slot_records_a_failure_with_its_traceback(factory: SessionFactory) -> None:
    clock = FrozenClock()

    def broken() -> Mapping[str, int]:
        clock.advance(seconds=2)
        raise RuntimeError("SMTP relay on fire")

    run = run_slot(factory, "t.job", SLOT, broken, clock=clock, runner="h:1")
    assert run is not None
    with factory() as session:
        stored = session.get_one(JobRun, run.id)
    assert stored.status == JobStatus.FAILED and stored.counts is None
    assert stored.error is not None and stored.error.startswith("RuntimeError: SMTP relay on fire")
    assert "in broken" in stored.error
    assert stored.duration == dt.timedelta(seconds=2)
    # the failed slot counts as run: no retry of the same slot
    assert run_slot(factory, "t.job", SLOT, lambda: {}, clock=clock, runner="h:1") is None


def test_run_slot_from_two_threads_runs_once(factory: SessionFactory) -> None:
    barrier, calls, results = threading.Barrier(2), list[int](), list[JobRun | None]()

    def body() -> Mapping[str, int]:
        time.sleep(0.3)  # still running while the other thread tries the same slot
        return _counting(calls)

    def attempt(runner: str) -> None:
        barrier.wait(timeout=10)
        results.append(run_slot(factory, "t.job", SLOT, body, clock=SystemClock(), runner=runner))

    threads = [threading.Thread(target=attempt, args=(f"h:{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(calls) == 1 and len(results) == 2
    assert sum(result is not None for result in results) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 1


# ------------------------------------------------------------------ leader locks
def _left_running(
    factory: SessionFactory, job_id: str, runner: str | None, at: dt.datetime = SLOT
) -> int:
    with factory() as session, session.begin():
        run = JobRun(
            job_id=job_id,
            scheduled_for=at,
            started_at=at,
            status=JobStatus.RUNNING,
            runner=runner,
        )
        session.add(run)
    return run.id


def test_a_new_leader_marks_runs_left_running_by_another_abandoned(factory: SessionFactory) -> None:
    clock = FrozenClock(SLOT + dt.timedelta(minutes=5))
    dead, unknown = (
        _left_running(factory, "a.job", "old-host:41"),
        _left_running(factory, "b", None),
    )
    mine = _left_running(factory, "c.job", "new-host:7")  # this very process, still running it
    done = run_slot(factory, "d.job", SLOT, lambda: {"sent": 1}, clock=clock, runner="old-host:41")
    assert abandon_orphaned_runs(factory, clock=clock, runner="new-host:7") == 2
    with factory() as session:
        status = {r.id: (r.status, r.finished_at) for r in session.scalars(select(JobRun))}
        error = session.get_one(JobRun, dead).error or ""
    assert done is not None and status[done.id][0] == JobStatus.SUCCESS
    assert status[dead] == status[unknown] == (JobStatus.ABANDONED, clock.now())
    assert status[mine] == (JobStatus.RUNNING, None)
    assert "noticed by new-host:7" in error
    assert abandon_orphaned_runs(factory, clock=clock, runner="new-host:7") == 0


def test_a_late_outcome_of_the_old_leader_overwrites_abandoned(factory: SessionFactory) -> None:
    # an old leader that lost its lock may still be finishing its run when the new one takes over
    clock = FrozenClock()
    release, started = threading.Event(), threading.Event()

    def slow() -> Mapping[str, int]:
        started.set()
        assert release.wait(10)
        return {"sent": 4}

    result: list[JobRun | None] = []
    old = threading.Thread(
        target=lambda: result.append(
            run_slot(factory, "a.job", SLOT, slow, clock=clock, runner="old:1")
        )
    )
    old.start()
    assert started.wait(10)
    assert abandon_orphaned_runs(factory, clock=clock, runner="new:2") == 1
    release.set()
    old.join(10)
    with factory() as session:
        run = session.scalars(select(JobRun)).one()
    assert (run.status, run.counts, run.error) == (JobStatus.SUCCESS, {"sent": 4}, None)


def test_finished_runs_older_than_the_retention_are_purged(factory: SessionFactory) -> None:
    clock = FrozenClock(SLOT)
    old_ok = run_slot(factory, "a.job", SLOT, lambda: {"sent": 1}, clock=clock, runner="h:1")
    old_failed = run_slot(factory, "b.job", SLOT, _fail, clock=clock, runner="h:1")
    old_running = _left_running(factory, "c.job", "h:1")  # never purged: it is not over
    clock.advance(days=31)
    recent = run_slot(factory, "a.job", clock.now(), lambda: {}, clock=clock, runner="h:1")
    assert old_ok and old_failed and recent
    with factory() as session, session.begin():
        assert purge_job_runs(session, older_than=clock.now() - dt.timedelta(days=30)) == 2
    with factory() as session:
        assert set(session.scalars(select(JobRun.id))) == {old_running, recent.id}


def test_the_job_runs_retention_comes_from_the_configuration(tmp_path: Path) -> None:
    environ = {"CERT_INSTANCE_DIR": str(tmp_path), "CERT_JOB_RUNS_RETENTION_DAYS": "7"}
    assert load_config(environ=environ).job_runs_retention_days == 7
    assert load_config(environ={"CERT_INSTANCE_DIR": str(tmp_path)}).job_runs_retention_days == 30
    assert scheduler.JOBS[RUNS].interval_seconds(load_config(environ=environ)) == 3600


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
    orphan = _left_running(factory, "gone.job", "dead:1", SystemClock().now())
    stop = _start(config, in_thread)
    try:
        wait_until(lambda: at_least(5, job_runs(fresh_database.engine)), 20, "4 runs")
        with fresh_database.engine.connect() as conn:
            assert set(conn.scalars(select(apscheduler_jobs.c.id))) == set(scheduler.JOBS)
    finally:
        stop.set()
    in_thread[0].join(timeout=30)
    runs = job_runs(fresh_database.engine)  # stopping lets the last run finish
    abandoned = [run for run in runs if run.id == orphan]
    assert [run.status for run in abandoned] == [JobStatus.ABANDONED]  # by the new leader
    runs = [run for run in runs if run.id != orphan]
    assert {run.job_id for run in runs} == {"mail.drain_outbox", PURGE, RUNS, STATS}
    assert {run.job_id for run in runs} == set(scheduler.JOBS)
    assert all(run.status == JobStatus.SUCCESS for run in runs), [(r.status, r.error) for r in runs]
    assert all(run.scheduled_for == slot_for(run.scheduled_for, 1) for run in runs)
    expected = {
        "mail.drain_outbox": {"sent": 0, "retried": 0, "failed": 0},
        PURGE: {"deleted": 0},
        RUNS: {"deleted": 0},
        STATS: {"analysed": int(fresh_database.engine.dialect.name == "sqlite")},
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
) -> None:
    caplog.set_level(logging.INFO, logger="cert.scheduler")
    config = _config(fresh_database, tmp_path)
    holder = scheduler.leader_lock(config)
    try:
        assert holder.try_acquire()
        stop = _start(config, in_thread)
        wait_until(lambda: "scheduler: standby" in caplog.text, 20, "the standby line")
        time.sleep(0.5)  # several polls: still standby, announced once, nothing run
        stop.set()
        in_thread[0].join(timeout=30)
    finally:
        holder.release()
    assert caplog.text.count("scheduler: standby") == 1
    assert "scheduler: leader" not in caplog.text
    assert job_runs(fresh_database.engine) == []


# ------------------------------------------------------------------ command line
def test_scheduler_help_explains_leader_and_standby() -> None:
    result = CliRunner().invoke(cli, ["scheduler", "--help"])
    assert result.exit_code == 0
    assert "leader" in result.output and "standby" in result.output


def _fail() -> Mapping[str, int]:
    raise ZeroDivisionError("division by zero")


def test_jobs_list_prints_recent_runs(
    factory: SessionFactory, fresh_database: TestDatabase, tmp_path: Path
) -> None:
    clock = FrozenClock()
    run_slot(factory, "mail.drain_outbox", SLOT, lambda: {"sent": 3}, clock=clock, runner="h:1")
    run_slot(factory, "feeds.pull", SLOT, _fail, clock=clock, runner="h:1")
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_SECRET_KEY": "s" * 40,
    }
    result = CliRunner().invoke(cli, ["jobs", "list"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert 'mail.drain_outbox\t2026-01-15 09:00:00Z\tsuccess\t0.000s\t{"sent": 3}' in lines
    assert any(
        line.startswith("feeds.pull") and "failed" in line and "ZeroDivisionError" in line
        for line in lines
    )
    result = CliRunner().invoke(cli, ["jobs", "list", "--job", "nope"], env=env)
    assert result.output.strip() == "no job runs"


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
        wait_until(lambda: at_least(3, runs_of(job_runs(db.engine), standby)), 20, "3 new runs")
        assert standby.stop() == 0
        assert "leader lock released" in standby.output()
        assert_slots_continue(db, leader, standby)
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
        kill_between_runs(db, leader)
        standby.wait_for(f"scheduler: leader (pid {standby.pid}", 30)
        wait_until(lambda: at_least(2, runs_of(job_runs(db.engine), standby)), 30, "new runs")
        assert standby.stop() == 0
        assert_slots_continue(db, leader, standby)
    finally:
        db.drop()


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


def test_the_statistics_job_gives_sqlite_planner_statistics(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    context = scheduler.open_context(_config(fresh_database, tmp_path))
    with context.session_factory() as session, session.begin():  # ANALYZE skips empty tables
        make_user(session, FrozenClock(), org=make_org(session, FrozenClock()))
    try:
        counts = scheduler.JOBS[STATS].resolve()(context)
        sqlite = context.engine.dialect.name == "sqlite"
        assert counts == {"analysed": int(sqlite)}
        if sqlite:  # ANALYZE wrote a row per index of the tables that have rows
            with context.engine.connect() as conn:
                indexes = set(conn.scalars(text("SELECT idx FROM sqlite_stat1")))
            assert "ix_users_organisation_id" in indexes
    finally:
        scheduler.close_context()
