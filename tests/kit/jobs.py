"""Job runs as a dead scheduler leaves them."""

from __future__ import annotations

import datetime as dt

from core.db import SessionFactory
from core.jobs import JobRun, JobStatus


def left_running(factory: SessionFactory, job_id: str, runner: str | None, at: dt.datetime) -> int:
    """A run of ``job_id`` at ``at`` left ``running`` by ``runner`` (a leader that died)."""
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
