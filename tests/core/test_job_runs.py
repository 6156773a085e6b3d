"""Job runs (core.jobs): the slot guard, runs abandoned by a dead leader, retention, and
``cert jobs list``."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import cert.cli.scheduler  # noqa: F401 (registers `cert scheduler` and `cert jobs`)
from cert import scheduler
from cert.cli import cli
from core.clock import FrozenClock, SystemClock
from core.config import load_config
from core.db import SessionFactory
from core.jobs import (
    JobRun,
    JobStatus,
    abandon_orphaned_runs,
    list_job_runs,
    purge_job_runs,
    run_slot,
    slot_for,
)
from tests.dbs import TestDatabase
from tests.kit.jobs import left_running

SLOT = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
RUNS = "scheduler.purge_job_runs"  # hourly


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
    attempted = threading.Event()

    def body() -> Mapping[str, int]:
        # still running while the other thread tries the same slot (if the slot were run twice,
        # both bodies would wait here in vain and the counts below would show it)
        attempted.wait(timeout=30)
        return _counting(calls)

    def attempt(runner: str) -> None:
        barrier.wait(timeout=10)
        results.append(run_slot(factory, "t.job", SLOT, body, clock=SystemClock(), runner=runner))
        attempted.set()

    threads = [threading.Thread(target=attempt, args=(f"h:{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(calls) == 1 and len(results) == 2
    assert sum(result is not None for result in results) == 1
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == 1


# ------------------------------------------------------------------ abandoned and old runs
def test_a_new_leader_marks_runs_left_running_by_another_abandoned(factory: SessionFactory) -> None:
    clock = FrozenClock(SLOT + dt.timedelta(minutes=5))
    dead, unknown = (
        left_running(factory, "a.job", "old-host:41", SLOT),
        left_running(factory, "b", None, SLOT),
    )
    mine = left_running(factory, "c.job", "new-host:7", SLOT)  # this very process, still running it
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
    old_running = left_running(factory, "c.job", "h:1", SLOT)  # never purged: it is not over
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
