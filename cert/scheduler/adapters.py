"""The recurring jobs: one small adapter per domain job, building what the job needs (mailer,
settings, a transaction) from the :class:`~cert.scheduler.registry.JobContext`, and its
registration in :data:`~cert.scheduler.registry.JOBS` with the setting holding its interval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from cert import db, event_handlers, events, jobs, mail_sender, mailers
from cert.auth import sessions, throttle
from cert.db import is_postgres, session_scope
from cert.scheduler.registry import JobContext, register_job
from incidents.intake.idempotency import purge_expired_keys


def drain_mail_outbox(context: JobContext) -> Mapping[str, int]:
    config = context.config
    return mail_sender.drain_outbox(
        context.session_factory,
        mailers.SmtpMailer(config.smtp),
        clock=context.clock,
        mail_from=config.mail_from,
        max_attempts=config.outbox_max_attempts,
    )


def deliver_events(context: JobContext) -> Mapping[str, int]:
    """Hand the recorded domain events to the slices' handlers (:mod:`cert.events.dispatch`)."""
    return events.deliver_events(
        context.session_factory,
        event_handlers.HANDLERS,
        clock=context.clock,
        max_attempts=context.config.events_max_attempts,
    )


def purge_idempotency_keys(context: JobContext) -> Mapping[str, int]:
    """Forget the ``Idempotency-Key`` rows older than ``CERT_IDEMPOTENCY_TTL_HOURS``, in one
    transaction. Housekeeping, like the outbox drain: counted in ``job_runs``, not audited."""
    cutoff = context.clock.now() - dt.timedelta(hours=context.config.idempotency_ttl_hours)
    with session_scope(context.session_factory) as session:
        deleted = purge_expired_keys(session, older_than=cutoff)
    return {"deleted": deleted}


def purge_job_runs(context: JobContext) -> Mapping[str, int]:
    """Forget the finished runs older than ``CERT_JOB_RUNS_RETENTION_DAYS``: the outbox drain
    alone records 2,880 runs a day."""
    cutoff = context.clock.now() - dt.timedelta(days=context.config.job_runs_retention_days)
    with session_scope(context.session_factory) as session:
        deleted = jobs.purge_job_runs(session, older_than=cutoff)
    return {"deleted": deleted}


def purge_sessions(context: JobContext) -> Mapping[str, int]:
    """Forget the web sessions that can no longer be used (ended, idle past
    ``CERT_SESSION_IDLE_MINUTES``, older than ``CERT_SESSION_MAX_HOURS``) and the sign-in throttle
    counts that ran out; the audit log keeps their history."""
    config = context.config
    policy = sessions.SessionPolicy.of(
        idle_minutes=config.session_idle_minutes, max_hours=config.session_max_hours
    )
    now = context.clock.now()
    with session_scope(context.session_factory) as session:
        ended = sessions.purge_sessions(session, policy=policy, now=now)
        counts = throttle.purge(session, now=now)
    return {"sessions": ended, "throttles": counts}


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


register_job(
    "mail.drain_outbox", "cert.scheduler.adapters:drain_mail_outbox", "outbox_interval_seconds"
)
register_job("events.deliver", "cert.scheduler.adapters:deliver_events", "events_interval_seconds")
register_job(
    "incidents.purge_idempotency_keys",
    "cert.scheduler.adapters:purge_idempotency_keys",
    "idempotency_purge_interval_seconds",
)
register_job("scheduler.purge_job_runs", "cert.scheduler.adapters:purge_job_runs", 3600)
register_job("auth.purge_sessions", "cert.scheduler.adapters:purge_sessions", 3600)
register_job("db.refresh_statistics", "cert.scheduler.adapters:refresh_statistics", 600)
