"""Scheduled-job bookkeeping (kernel): one ``JobRun`` row per (job, scheduled slot).

The unique constraint on ``(job_id, scheduled_for)`` is the guard that no slot runs twice, even
across a leader fail-over. The scheduler process (``cert.scheduler``) uses this; domain packages
provide the job bodies.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Float,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import requestid
from core.clock import Clock
from core.config import Config
from core.db import Base, SessionFactory
from core.identity.authz import Actor
from core.uow import UnitOfWork, transaction, unit_of_work


@dataclass(frozen=True)
class JobContext:
    """What job bodies get: built once per process from configuration (by the scheduler,
    :func:`cert.scheduler.registry.open_context`); a slice's job takes one and returns counts."""

    config: Config
    engine: Engine
    session_factory: SessionFactory
    clock: Clock
    runner: str  # host:pid, recorded in job_runs
    settings: Mapping[str, object] = field(default_factory=dict)  # slice name → its settings

    @contextmanager
    def unit_of_work(self, *, write: bool = False) -> Iterator[UnitOfWork]:
        """One job's unit of work, acting as the scheduler (:func:`core.uow.unit_of_work`)."""
        with unit_of_work(
            self.session_factory,
            clock=self.clock,
            config=self.config,
            actor=Actor.system(f"scheduler:{self.runner}"),
            settings=self.settings,
            write=write,
        ) as uow:
            yield uow


class JobStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its scheduler stopped before recording an outcome


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "scheduled_for"),
        Index("ix_job_runs_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(191))
    scheduled_for: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[JobStatus] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    runner: Mapped[str | None] = mapped_column(String(200))  # host:pid of the scheduler that ran it
    request_id: Mapped[str | None] = mapped_column(String(64))  # job-…: its log lines and writes

    @property
    def duration(self) -> dt.timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


# APScheduler 3's SQLAlchemyJobStore table, declared here so that Alembic owns it like every other
# table (the job store's own ``create(checkfirst=True)`` then finds it and does nothing).
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


# ------------------------------------------------------------------ slots and the run guard
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_ERROR_LENGTH = 4000
log = logging.getLogger(__name__)


def slot_for(now: dt.datetime, interval_seconds: int) -> dt.datetime:
    """The start of the interval that contains ``now``, on a grid aligned to the Unix epoch.

    Every process computes the same slot for the same instant, so the slot identifies one run of
    a job whichever scheduler runs it.
    """
    if now.tzinfo is None:
        raise ValueError("slot_for needs an aware datetime")
    if interval_seconds <= 0:
        raise ValueError(f"interval must be positive, got {interval_seconds}")
    step = dt.timedelta(seconds=interval_seconds)
    return EPOCH + ((now - EPOCH) // step) * step


def run_slot(
    session_factory: SessionFactory,
    job_id: str,
    scheduled_for: dt.datetime,
    fn: Callable[[], Mapping[str, int]],
    *,
    clock: Clock,
    runner: str,
) -> JobRun | None:
    """Run ``fn`` once for the slot ``(job_id, scheduled_for)``; None when the slot is taken.

    The ``running`` row is committed *before* ``fn`` runs: the unique constraint then makes a
    second attempt at the same slot (another thread, or a new leader after a fail-over) fail
    here and do nothing. The outcome (status, counts or error) is recorded in a second
    transaction. A process killed while ``fn`` runs leaves its row ``running``: that slot is
    never re-run (at most once per slot; jobs catch up through their own watermarks), and the
    next leader marks the row ``abandoned`` (:func:`abandon_orphaned_runs`).
    """
    with requestid.bound(requestid.new("job-")):
        claimed = _claim(session_factory, job_id, scheduled_for, clock, runner)
        if claimed is None:
            log.debug("job %s: slot %s already taken", job_id, scheduled_for.isoformat())
            return None
        return _run_claimed(session_factory, claimed, fn, clock)


def _run_claimed(
    session_factory: SessionFactory,
    claimed: JobRun,
    fn: Callable[[], Mapping[str, int]],
    clock: Clock,
) -> JobRun:
    job_id, scheduled_for = claimed.job_id, claimed.scheduled_for
    try:
        counts = dict(fn())
    except BaseException as exc:
        log.exception("job %s (slot %s) failed", job_id, scheduled_for.isoformat())
        finished = _finish(session_factory, claimed, clock, JobStatus.FAILED, error=_summary(exc))
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: recorded, not eaten
            raise
        return finished
    return _finish(session_factory, claimed, clock, JobStatus.SUCCESS, counts=counts)


def _claim(
    session_factory: SessionFactory,
    job_id: str,
    scheduled_for: dt.datetime,
    clock: Clock,
    runner: str,
) -> JobRun | None:
    run = JobRun(
        job_id=job_id,
        scheduled_for=scheduled_for,
        started_at=clock.now(),
        status=JobStatus.RUNNING,
        runner=runner[:200],
        request_id=requestid.current(),
    )
    try:
        with transaction(session_factory) as session:
            session.add(run)
    except IntegrityError:
        return None
    return run


def _finish(
    session_factory: SessionFactory,
    claimed: JobRun,
    clock: Clock,
    status: JobStatus,
    *,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> JobRun:
    # Read, then update: as a writer from the start (SQLite), since jobs run in parallel threads
    # and a deferred transaction's upgrade to writer fails when another job committed between.
    with transaction(session_factory, write=True) as session:
        run = session.get_one(JobRun, claimed.id)
        run.finished_at = clock.now()
        run.status = status
        run.counts = counts
        run.error = error
    return run


def abandon_orphaned_runs(session_factory: SessionFactory, *, clock: Clock, runner: str) -> int:
    """Mark ``abandoned`` the runs still ``running`` under another runner; how many.

    Called by a scheduler when it becomes leader: only the leader runs jobs, so such a row was left
    by an earlier leader that died or lost its lock mid-run. Should that leader still be finishing
    (a lost lock is noticed within seconds), its own outcome overwrites this one.
    """
    now = clock.now()
    note = f"abandoned: its scheduler stopped before recording an outcome (noticed by {runner})"
    with transaction(session_factory) as session:
        result = session.execute(
            update(JobRun)
            .where(JobRun.status == JobStatus.RUNNING)
            .where(or_(JobRun.runner.is_(None), JobRun.runner != runner))
            .values(status=JobStatus.ABANDONED, finished_at=now, error=note[:MAX_ERROR_LENGTH])
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def purge_job_runs(session: Session, *, older_than: dt.datetime) -> int:
    """Delete the finished runs started before ``older_than`` (index ``ix_job_runs_started_at``);
    how many went. Runs still ``running`` stay whatever their age. Never commits."""
    result = session.execute(
        delete(JobRun)
        .where(JobRun.started_at < older_than, JobRun.status != JobStatus.RUNNING)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _summary(exc: BaseException) -> str:
    """``Type: message`` and the innermost frames, cut to :data:`MAX_ERROR_LENGTH`."""
    head = "".join(traceback.format_exception_only(exc)).strip()
    frames = "".join(traceback.format_tb(exc.__traceback__, limit=-5))
    text = f"{head}\n{frames}".strip()
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def list_job_runs(session: Session, *, job_id: str | None = None, limit: int = 50) -> list[JobRun]:
    """The latest runs, newest first (optionally of one job)."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job_id is not None:
        query = query.where(JobRun.job_id == job_id)
    return list(session.scalars(query))
