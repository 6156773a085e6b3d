"""Scheduled-job bookkeeping (kernel): one ``JobRun`` row per (job, scheduled slot).

The unique constraint on ``(job_id, scheduled_for)`` is the guard that no slot runs twice, even
across a leader fail-over. The scheduler process (``cert.scheduler``) uses this; domain packages
provide the job bodies.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cert.db import Base


class JobStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


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


# APScheduler 3's SQLAlchemyJobStore table, declared here so that Alembic owns it like every other
# table (the job store's own ``create(checkfirst=True)`` then finds it and does nothing).
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
