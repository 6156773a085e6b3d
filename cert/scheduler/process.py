"""The scheduler process: wait for leadership, then run APScheduler until told to stop.

Standbys retry the leader lock every ``scheduler_poll_seconds``; the leader exits when its lock
connection is gone. Jobs run through :func:`core.jobs.run_slot`: a slot of the epoch-aligned
interval grid runs at most once, even when an old and a new leader overlap.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from collections.abc import Callable
from contextlib import suppress
from threading import Event

import psycopg
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, delete

from cert.scheduler.leader import LeaderLock, check_leader_lock, leader_lock
from cert.scheduler.registry import JOBS, JobContext, close_context, open_context, run_job
from core.config import Config
from core.jobs import abandon_orphaned_runs, apscheduler_jobs, slot_for

log = logging.getLogger("cert.scheduler")  # one logger for the whole scheduler process

LIVENESS_SECONDS = 5  # how often the leader checks its lock connection
MISFIRE_GRACE_SECONDS = 30  # default; interval jobs use their own interval (see _add_jobs)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS}


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
        _abandon_orphans(context)
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


def _abandon_orphans(context: JobContext) -> None:
    orphans = abandon_orphaned_runs(
        context.session_factory, clock=context.clock, runner=context.runner
    )
    if orphans:
        log.warning("scheduler: %d run(s) left running by an earlier leader: abandoned", orphans)


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
