"""The scheduler process (composition root): leader election, job registry, APScheduler.

Any number of ``cert scheduler`` processes may run (one per host, say). They elect a leader and
only the leader runs APScheduler, because APScheduler 3 cannot share a job store between
processes (architecture §8):

* PostgreSQL: a **session-level** advisory lock (``pg_try_advisory_lock``) taken on a dedicated
  autocommit connection that is never pooled; PostgreSQL drops it when the leader dies.
* SQLite: an exclusive ``flock`` on a file next to the database (one host only).

Standbys retry every ``scheduler_poll_seconds``; the leader exits when its lock connection is
gone. Jobs run through :func:`cert.jobs.run_slot`: a slot of the epoch-aligned interval grid runs
at most once, even when an old and a new leader overlap.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from threading import Event
from typing import Any, Protocol, cast
from urllib.parse import quote, urlencode

import psycopg
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import Engine, delete
from sqlalchemy.engine import make_url

from cert import mail, mailers
from cert.clock import Clock, SystemClock
from cert.config import Config, load_config
from cert.db import SessionFactory, make_engine, make_session_factory
from cert.jobs import apscheduler_jobs, run_slot, slot_for

log = logging.getLogger(__name__)

LIVENESS_SECONDS = 5  # how often the leader checks its lock connection
MISFIRE_GRACE_SECONDS = 30  # default; interval jobs use their own interval (see _add_jobs)
EXIT_LOCK_LOST = 3
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS}


# ------------------------------------------------------------------ job registry
JobBody = Callable[["JobContext"], Mapping[str, int]]


@dataclass(frozen=True)
class ScheduledJob:
    """One recurring job: ``target`` ("module:function") takes a :class:`JobContext` and returns
    counts; ``interval`` is a number of seconds or the name of the :class:`Config` field holding it.
    """

    job_id: str
    target: str
    interval: int | str

    def interval_seconds(self, config: Config) -> int:
        value = getattr(config, self.interval) if isinstance(self.interval, str) else self.interval
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"job {self.job_id}: interval must be a positive int, got {value!r}")
        return value

    def resolve(self) -> JobBody:
        module, _, name = self.target.partition(":")
        return cast(JobBody, getattr(importlib.import_module(module), name))


JOBS: dict[str, ScheduledJob] = {}


def register_job(job_id: str, target: str, interval: int | str) -> ScheduledJob:
    """Add a job to :data:`JOBS`. Domain jobs get a small adapter here that builds their
    dependencies (mailer, HTTP clients, settings) from the :class:`JobContext`."""
    if ":" not in target:
        raise ValueError(f"job {job_id}: target must be 'module:function', got {target!r}")
    if job_id in JOBS:
        raise ValueError(f"job {job_id} is already registered")
    JOBS[job_id] = spec = ScheduledJob(job_id, target, interval)
    return spec


# ------------------------------------------------------------------ per-process job context
@dataclass(frozen=True)
class JobContext:
    """What job bodies get: built once per process from configuration."""

    config: Config
    engine: Engine
    session_factory: SessionFactory
    clock: Clock
    runner: str  # host:pid, recorded in job_runs


_PROCESS: dict[str, JobContext] = {}  # this process's context, under the key "context"


def open_context(config: Config) -> JobContext:
    """Build this process's context (engine, session factory, clock) and cache it."""
    engine = make_engine(config.database_url)
    context = JobContext(
        config=config,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=SystemClock(),
        runner=f"{socket.gethostname()}:{os.getpid()}",
    )
    close_context()
    _PROCESS["context"] = context
    return context


def close_context() -> None:
    context = _PROCESS.pop("context", None)
    if context is not None:
        context.engine.dispose()


def job_context() -> JobContext:
    """The cached context; built from the ``CERT_*`` environment if the process has none yet."""
    return _PROCESS.get("context") or open_context(load_config())


def run_job(job_id: str, interval_seconds: int) -> None:
    """APScheduler's entry point for every registered job (stored by reference; plain args)."""
    context = job_context()
    body = JOBS[job_id].resolve()
    run_slot(
        context.session_factory,
        job_id,
        slot_for(context.clock.now(), interval_seconds),
        lambda: body(context),
        clock=context.clock,
        runner=context.runner,
    )


def drain_mail_outbox(context: JobContext) -> Mapping[str, int]:
    config = context.config
    return mail.drain_outbox(
        context.session_factory,
        mailers.SmtpMailer(config.smtp),
        clock=context.clock,
        mail_from=config.mail_from,
        max_attempts=config.outbox_max_attempts,
    )


register_job("mail.drain_outbox", "cert.scheduler:drain_mail_outbox", "outbox_interval_seconds")


# ------------------------------------------------------------------ leader locks
class LeaderLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...
    def alive(self) -> bool: ...
    def release(self) -> None: ...


def libpq_uri(database_url: str) -> str:
    """A libpq URI for a SQLAlchemy URL (driver name dropped, query parameters such as
    ``options`` kept)."""
    url = make_url(database_url)
    userinfo = quote(url.username or "", safe="")
    if url.password is not None:
        userinfo += ":" + quote(str(url.password), safe="")
    host = f"[{url.host}]" if url.host and ":" in url.host else (url.host or "")
    netloc = (f"{userinfo}@" if userinfo else "") + host + (f":{url.port}" if url.port else "")
    path = "/" + quote(url.database, safe="") if url.database else ""
    query = urlencode(dict(url.query), doseq=True, quote_via=quote)
    return f"postgresql://{netloc}{path}" + (f"?{query}" if query else "")


# libpq side of the lock connection: give up on a silent server after ~20 s
LOCK_CONNINFO = (
    "application_name=vigie-scheduler connect_timeout=10 keepalives=1 keepalives_idle=5"
    " keepalives_interval=5 keepalives_count=3 tcp_user_timeout=20000"
)


class AdvisoryLock:
    """PostgreSQL-specific: a session-level advisory lock on a dedicated autocommit connection.

    Never pooled (a pool or PgBouncer in transaction mode would hand the session, and so the
    lock, to someone else). TCP keepalives on both ends bound how long a partitioned leader
    keeps the lock.
    """

    def __init__(self, dsn: str, key: int) -> None:
        self.dsn = dsn
        self.key = key
        self.description = f"PostgreSQL advisory lock {key}"
        self._conn: psycopg.Connection[Any] | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        conninfo = make_conninfo(self.dsn, **conninfo_to_dict(LOCK_CONNINFO))
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.execute(
            "SELECT set_config('tcp_keepalives_idle', '5', false),"
            " set_config('tcp_keepalives_interval', '5', false),"
            " set_config('tcp_keepalives_count', '3', false)"
        )
        return conn

    def try_acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            row = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s::bigint)", (self.key,)
            ).fetchone()
        except psycopg.Error:
            self.release()  # reconnect on the next attempt
            raise
        return bool(row and row[0])

    def alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def release(self) -> None:
        """Closing the session releases the lock."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class FileLock:
    """SQLite: an exclusive, non-blocking ``flock`` on a file next to the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"lock file {path}"
        self._fd: int | None = None
        self._held = False

    def try_acquire(self) -> bool:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{socket.gethostname()}:{os.getpid()}\n".encode())
        self._held = True
        return True

    def alive(self) -> bool:
        return self._held

    def release(self) -> None:
        """Closing the descriptor releases the lock."""
        fd, self._fd, self._held = self._fd, None, False
        if fd is not None:
            os.close(fd)


def leader_lock(config: Config) -> LeaderLock:
    url = make_url(config.database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(libpq_uri(config.database_url), config.scheduler_lock_key)
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return FileLock(Path(f"{database}.scheduler-lock"))
    return FileLock(config.instance_dir / "scheduler.lock")


def check_leader_lock(lock: LeaderLock, terminate: Callable[[int], Any] = os._exit) -> None:
    """Liveness job: exit at once when the lock (connection) is gone, so a standby takes over."""
    if lock.alive():
        return
    log.critical("scheduler: leader lock lost (%s); exiting", lock.description)
    terminate(EXIT_LOCK_LOST)


# ------------------------------------------------------------------ the process
def run_scheduler(config: Config, *, stop_event: Event | None = None) -> None:
    """Wait for leadership, then run the jobs until SIGTERM/SIGINT or ``stop_event``."""
    stop = stop_event or Event()
    lock = leader_lock(config)
    restore_signals = _install_signal_handlers(stop)
    try:
        if _wait_for_leadership(lock, config.scheduler_poll_seconds, stop):
            log.info("scheduler: leader (pid %d, %s)", os.getpid(), lock.description)
            _lead(config, lock, stop)
    finally:
        lock.release()
        restore_signals()
        log.info("scheduler: stopped (pid %d), leader lock released", os.getpid())


def _wait_for_leadership(lock: LeaderLock, poll_seconds: float, stop: Event) -> bool:
    announced = failing = False
    while not stop.is_set():
        try:
            if lock.try_acquire():
                return True
        except (OSError, psycopg.Error) as exc:
            if not failing:
                reason = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
                log.warning("scheduler: leader lock unavailable (%s); retrying", reason)
            failing = True
        else:
            failing = False
            if not announced:
                log.info("scheduler: standby, leader lock held elsewhere (%s)", lock.description)
                announced = True
        stop.wait(poll_seconds)
    return False


def _lead(config: Config, lock: LeaderLock, stop: Event) -> None:
    context = open_context(config)
    finished = Event()
    scheduler = build_scheduler(context.engine)
    watcher = threading.Thread(target=_shutdown_when_set, args=(scheduler, stop, finished))
    try:
        _add_jobs(scheduler, context)
        scheduler.add_job(
            check_leader_lock,
            "interval",
            seconds=LIVENESS_SECONDS,
            args=[lock],
            id="scheduler.liveness",
            jobstore="memory",
            executor="liveness",
        )
        scheduler.add_listener(lambda _event: watcher.start(), EVENT_SCHEDULER_STARTED)
        if not stop.is_set():
            scheduler.start()  # blocks until the watcher shuts it down
    finally:
        finished.set()
        if watcher.ident is not None:
            watcher.join()  # shutdown(wait=True) may outlast the main loop: running jobs end first
        close_context()


def build_scheduler(engine: Engine) -> BlockingScheduler:
    return BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine), "memory": MemoryJobStore()},
        # the liveness check has its own thread: long jobs must not delay it
        executors={"default": ThreadPoolExecutor(4), "liveness": ThreadPoolExecutor(1)},
        job_defaults=JOB_DEFAULTS,
        timezone=dt.UTC,
    )


def _add_jobs(scheduler: BlockingScheduler, context: JobContext) -> None:
    """(Re)register every job of :data:`JOBS`; drop stored jobs that are no longer registered.

    Fire times sit on the epoch grid, so they equal ``slot_for``. The current slot is due at
    once: after a fail-over it runs unless the old leader ran it (``run_slot`` decides). A run
    later than its interval is skipped: the next slot has started by then.
    """
    with context.engine.begin() as conn:
        conn.execute(delete(apscheduler_jobs).where(apscheduler_jobs.c.id.not_in(list(JOBS))))
    now = context.clock.now()
    for spec in JOBS.values():
        spec.resolve()  # fail at start-up, not at the first run, on a bad target
        interval = spec.interval_seconds(context.config)
        slot = slot_for(now, interval)
        scheduler.add_job(
            run_job,
            IntervalTrigger(seconds=interval, start_date=slot, timezone=dt.UTC),
            args=[spec.job_id, interval],
            id=spec.job_id,
            name=spec.job_id,
            replace_existing=True,
            misfire_grace_time=interval,
            next_run_time=slot,
        )


def _shutdown_when_set(scheduler: BlockingScheduler, stop: Event, finished: Event) -> None:
    while not stop.wait(0.2):
        if finished.is_set():
            return
    with suppress(SchedulerNotRunningError):
        scheduler.shutdown(wait=True)  # lets running jobs finish


def _install_signal_handlers(stop: Event) -> Callable[[], object]:
    """SIGTERM/SIGINT set ``stop`` (only possible from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {
        signum: signal.signal(signum, lambda _signum, _frame: stop.set())
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    return lambda: [signal.signal(signum, handler) for signum, handler in previous.items()]
