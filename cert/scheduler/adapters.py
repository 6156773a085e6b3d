"""The recurring jobs: the kernel's own, one small adapter each building what the job needs
(mailer, settings, a transaction) from the :class:`~cert.scheduler.registry.JobContext`, and
their registration in :data:`~cert.scheduler.registry.JOBS` with the setting holding their
interval; then every slice's jobs, from the manifests (:func:`register_slice_jobs`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from cert import event_handlers
from cert.scheduler.registry import JobContext, register_job
from cert.slices_list import SLICES
from core import db, events, jobs, mail_sender, mailers
from core.auth import resets, sessions, throttle
from core.db import is_postgres
from core.sealing import Sealer
from core.slices import Job, Slice


def drain_mail_outbox(context: JobContext) -> Mapping[str, int]:
    config = context.config
    return mail_sender.drain_outbox(
        context.session_factory,
        mailers.SmtpMailer(config.smtp),
        clock=context.clock,
        mail_from=config.mail_from,
        max_attempts=config.outbox_max_attempts,
        sealer=Sealer(config.secret_key),
        time_slice=OUTBOX_TIME_SLICE_SECONDS,
    )


# A run of mail.drain_outbox goes on while it claims full batches (100), for at most this long:
# a publication to 1,000 recipients leaves in one run instead of one batch per interval.
OUTBOX_TIME_SLICE_SECONDS = 20.0


# A run of events.deliver goes on while it finds full batches, for at most this long: 100
# deliveries every 5 s could not keep up with a burst (1,000 reports are 1,000 events times the
# handlers subscribed to incident.submitted), and other jobs still get their turn.
EVENTS_TIME_SLICE_SECONDS = 20.0


def deliver_events(context: JobContext) -> Mapping[str, int]:
    """Hand the recorded domain events to the slices' handlers (:mod:`core.events.dispatch`),
    batch after batch while a backlog waits, within :data:`EVENTS_TIME_SLICE_SECONDS`, with
    the slices' settings built at start-up (those a handler takes, e.g. ``CERT_NAME``)."""
    return events.deliver_events(
        context.session_factory,
        event_handlers.HANDLERS,
        clock=context.clock,
        max_attempts=context.config.events_max_attempts,
        time_slice=EVENTS_TIME_SLICE_SECONDS,
        settings=context.settings,
    )


def purge_events(context: JobContext) -> Mapping[str, int]:
    """Forget the domain events older than ``CERT_EVENTS_RETENTION_DAYS`` that every handler
    has, with their deliveries; an event still owed to a handler (pending, failed) stays
    (:mod:`core.events.purge`)."""
    cutoff = context.clock.now() - dt.timedelta(days=context.config.events_retention_days)
    return events.purge_events(context.session_factory, older_than=cutoff)


def purge_job_runs(context: JobContext) -> Mapping[str, int]:
    """Forget the finished runs older than ``CERT_JOB_RUNS_RETENTION_DAYS``: the outbox drain
    alone records 2,880 runs a day."""
    cutoff = context.clock.now() - dt.timedelta(days=context.config.job_runs_retention_days)
    with context.unit_of_work() as uow:
        deleted = jobs.purge_job_runs(uow.session, older_than=cutoff)
    return {"deleted": deleted}


def purge_sessions(context: JobContext) -> Mapping[str, int]:
    """Forget the web sessions that can no longer be used (ended, idle past
    ``CERT_SESSION_IDLE_MINUTES``, older than ``CERT_SESSION_MAX_HOURS``), the sign-in throttle
    counts that ran out and the expired links to set a password; the audit log keeps their
    history."""
    config = context.config
    policy = sessions.SessionPolicy.of(
        idle_minutes=config.session_idle_minutes, max_hours=config.session_max_hours
    )
    now = context.clock.now()
    with context.unit_of_work() as uow:
        ended = sessions.purge_sessions(uow.session, policy=policy, now=now)
        counts = throttle.purge(uow.session, now=now)
        links = resets.purge(uow.session, now=now)
    return {"sessions": ended, "throttles": counts, "reset_links": links}


def refresh_statistics(context: JobContext) -> Mapping[str, int]:
    """SQLite: ``ANALYZE`` the tables whose planner statistics have gone stale — grown or
    shrunk by half since they were taken, or never taken though the table has 100 rows —
    and only those (PostgreSQL's autovacuum keeps its own); how many tables.

    Every 10 minutes, so that a database that grows fast (history imported on the first day,
    a bulk load) has statistics that describe it within minutes: ones taken when the scheduler
    started on a nearly empty database would otherwise make the planner scan whole tables
    (bench/queue.py --stale-statistics). Without statistics the default queue page scans by
    date instead of using the status index: 45 ms against 17 ms at 100,000 incidents
    (--no-analyze). ANALYZE of the incidents table took 80 ms at 30,000 rows."""
    if is_postgres(context.engine):
        return {"analysed": 0}
    with context.engine.begin() as conn:
        return {"analysed": len(db.refresh_statistics(conn))}


# The kernel's own jobs (the slices declare theirs in their manifests).
KERNEL_JOBS: tuple[Job, ...] = (
    Job("mail.drain_outbox", f"{__name__}:drain_mail_outbox", "outbox_interval_seconds"),
    Job("events.deliver", f"{__name__}:deliver_events", "events_interval_seconds"),
    Job("events.purge", f"{__name__}:purge_events", 3600),
    Job("scheduler.purge_job_runs", f"{__name__}:purge_job_runs", 3600),
    Job("auth.purge_sessions", f"{__name__}:purge_sessions", 3600),
    Job("db.refresh_statistics", f"{__name__}:refresh_statistics", 600),
)


def register_jobs(jobs: Iterable[Job]) -> None:
    for job in jobs:
        register_job(job.name, job.target, job.interval)


def register_slice_jobs(slices: Iterable[Slice]) -> None:
    """Register the jobs the ``slices`` manifests declare."""
    register_jobs(job for slice_ in slices for job in slice_.jobs)


register_jobs(KERNEL_JOBS)
register_slice_jobs(SLICES)
