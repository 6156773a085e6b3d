"""``cert scheduler`` subprocesses for tests: output read line by line, with arrival times."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psycopg
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.jobs import JobRun, JobStatus, slot_for
from tests.dbs import TestDatabase

T = TypeVar("T")


def wait_until(predicate: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def closed_port() -> int:
    """A local TCP port nobody listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scheduler_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CERT_DATABASE_URL": database_url,
        "CERT_SECRET_KEY": "s" * 40,
        "CERT_INSTANCE_DIR": str(instance_dir),
        "CERT_OUTBOX_INTERVAL": "1",
        "CERT_SCHEDULER_POLL_SECONDS": "1",
        "CERT_SCHEDULER_LOCK_KEY": str(random.randint(1, 2**62)),
        "CERT_SMTP_URL": f"smtp://127.0.0.1:{closed_port()}",
    }


class SchedulerProcess:
    """One ``cert scheduler`` process; a thread collects its log lines as they arrive."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from cert.cli import main; main()", "scheduler"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []  # (time.monotonic() on arrival, line)
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def seen(self, text: str) -> float | None:
        """Arrival time of the first line containing ``text``, if any yet."""
        with self._lock:
            return next((at for at, line in self.lines if text in line), None)

    def output(self) -> str:
        with self._lock:
            return "\n".join(line for _, line in self.lines)

    def wait_for(self, text: str, timeout: float) -> float:
        try:
            return wait_until(lambda: self.seen(text), timeout, repr(text))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; pid {self.pid} printed:\n{self.output()}") from None

    def is_leader(self) -> bool:
        return self.seen(f"scheduler: leader (pid {self.pid}") is not None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


def job_runs(engine: Engine) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.scheduled_for)))


def runs_of(runs: list[JobRun], process: SchedulerProcess) -> list[JobRun]:
    return [run for run in runs if (run.runner or "").endswith(f":{process.pid}")]


def drains_of(runs: list[JobRun], process: SchedulerProcess) -> list[JobRun]:
    """``process``'s runs on the ``DRAIN`` grid (the other jobs' current slots may run first)."""
    return [run for run in runs_of(runs, process) if run.job_id == DRAIN]


def at_least(n: int, runs: list[JobRun]) -> list[JobRun] | None:
    return runs if len(runs) >= n else None


def elect(
    processes: list[SchedulerProcess], timeout: float = 60
) -> tuple[SchedulerProcess, SchedulerProcess]:
    """The leader and the standby, once each said so (``timeout``: starting a process on a
    loaded machine)."""
    leader = wait_until(
        lambda: next((p for p in processes if p.is_leader()), None), timeout, "a leader"
    )
    standby = next(p for p in processes if p is not leader)
    standby.wait_for("scheduler: standby, leader lock held elsewhere", timeout)
    assert not standby.is_leader()
    return leader, standby


def kill_between_runs(db: TestDatabase, leader: SchedulerProcess) -> tuple[float, float]:
    """SIGKILL the leader mid-slot, with no run in flight (a killed run would stay 'running')."""
    wait_until(lambda: at_least(2, drains_of(job_runs(db.engine), leader)), 30, "2 leader drains")
    wait_until(
        lambda: (
            0.35 <= time.time() % 1 <= 0.65
            and all(run.status != JobStatus.RUNNING for run in job_runs(db.engine))
        ),
        30,
        "a quiet moment",
    )
    killed_at, killed_wall = time.monotonic(), time.time()
    leader.kill()
    return killed_at, killed_wall


DRAIN = "mail.drain_outbox"  # every CERT_OUTBOX_INTERVAL (1 s here): the grid the checks follow
INTERVAL = dt.timedelta(seconds=1)
POLL = dt.timedelta(seconds=1)  # CERT_SCHEDULER_POLL_SECONDS
# what a loaded machine may add to one poll before the standby's line reaches the test: waking
# the process, flock/connect, the log pipe. Not a product promise: it only catches a standby
# that waits for several polls, or for something else than the lock, before taking over.
LOAD_SLACK = dt.timedelta(seconds=5)


def on_grid(at: dt.datetime) -> bool:
    return slot_for(at, int(INTERVAL.total_seconds())) == at


def assert_slots_continue(
    db: TestDatabase, old: SchedulerProcess, new: SchedulerProcess, *, killed_wall: float
) -> None:
    """What a take-over guarantees, whatever the machine's load.

    No slot runs twice (any job); every run succeeded. On the ``DRAIN`` grid: the old leader's
    runs all come before the new one's, the new leader runs nothing from before the kill, its
    first run is the slot in progress when it ran (missed slots are skipped, not run late) and
    its runs stay on the grid. How many slots are lost is the take-over time, which the tests
    bound by the poll period (``POLL + LOAD_SLACK``), not by a count of slots.
    """
    runs = job_runs(db.engine)
    keys = [(run.job_id, run.scheduled_for) for run in runs]
    assert len(keys) == len(set(keys))  # no slot ran twice
    assert all(run.status == JobStatus.SUCCESS for run in runs), [r.error for r in runs]
    assert len(runs_of(runs, old)) + len(runs_of(runs, new)) == len(runs)
    drains = [run for run in runs if run.job_id == DRAIN]
    before, after = runs_of(drains, old), runs_of(drains, new)
    assert before and after
    assert all(on_grid(run.scheduled_for) for run in drains)
    assert after[0].scheduled_for > before[-1].scheduled_for
    killed = dt.datetime.fromtimestamp(killed_wall, dt.UTC)
    assert after[0].scheduled_for >= slot_for(killed, int(INTERVAL.total_seconds()))
    first = after[0]
    assert first.scheduled_for <= first.started_at < first.scheduled_for + 2 * INTERVAL
    # the standby takes the lock at its next poll and runs the current slot at once
    assert first.started_at - killed <= POLL + LOAD_SLACK, first.started_at - killed
    lost = (after[0].scheduled_for - before[-1].scheduled_for) // INTERVAL - 1
    print(f"take-over: {lost} slot(s) of {DRAIN} lost")


def terminate_lock_session(dsn: str, key: int) -> int:
    """Kill the PostgreSQL session holding advisory lock ``key``; how many were killed."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted"
            " AND (classid::bigint << 32 | objid::bigint) = %s::bigint",
            (key,),
        ).fetchall()
    return len(killed)
