"""The scheduler process (composition root): leader election, job registry, APScheduler.

Any number of ``cert scheduler`` processes may run (one per host, say). They elect a leader and
only the leader runs APScheduler, because APScheduler 3 cannot share a job store between
processes (architecture §8):

* PostgreSQL: a **session-level** advisory lock (``pg_try_advisory_lock``) taken on a dedicated
  autocommit connection that is never pooled; PostgreSQL drops it when the leader dies.
* SQLite: an exclusive ``flock`` on a file next to the database (one host only).

Standbys retry every ``scheduler_poll_seconds``; the leader exits when its lock connection is
gone. Jobs run through :func:`core.jobs.run_slot`: a slot of the epoch-aligned interval grid runs
at most once, even when an old and a new leader overlap.

Modules: :mod:`~cert.scheduler.registry` (job registry, per-process context, the entry point
APScheduler calls), :mod:`~cert.scheduler.adapters` (the registered jobs),
:mod:`~cert.scheduler.leader` (leader locks) and :mod:`~cert.scheduler.process` (the process
loop). Importing this package registers every job.
"""

from __future__ import annotations

from cert.scheduler.adapters import drain_mail_outbox, register_slice_jobs
from cert.scheduler.leader import (
    EXIT_LOCK_LOST,
    LOCK_CONNINFO,
    AdvisoryLock,
    FileLock,
    LeaderLock,
    check_leader_lock,
    leader_lock,
    libpq_uri,
)
from cert.scheduler.process import (
    JOB_DEFAULTS,
    LIVENESS_SECONDS,
    MISFIRE_GRACE_SECONDS,
    build_scheduler,
    run_scheduler,
)
from cert.scheduler.registry import (
    JOBS,
    JobBody,
    JobContext,
    ScheduledJob,
    close_context,
    job_context,
    open_context,
    register_job,
    run_job,
)

__all__ = [
    "EXIT_LOCK_LOST",
    "JOBS",
    "JOB_DEFAULTS",
    "LIVENESS_SECONDS",
    "LOCK_CONNINFO",
    "MISFIRE_GRACE_SECONDS",
    "AdvisoryLock",
    "FileLock",
    "JobBody",
    "JobContext",
    "LeaderLock",
    "ScheduledJob",
    "build_scheduler",
    "check_leader_lock",
    "close_context",
    "drain_mail_outbox",
    "job_context",
    "leader_lock",
    "libpq_uri",
    "open_context",
    "register_job",
    "register_slice_jobs",
    "run_job",
    "run_scheduler",
]
