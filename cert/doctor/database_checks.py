"""``cert doctor``: the database answers, its schema is current, a scheduler leads and runs
jobs, and the outgoing mail and domain events are not piling up or failing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cert import schema
from cert.doctor.findings import Finding, ok, problem, warning
from cert.scheduler.leader import leadership
from core.clock import Clock
from core.config import Config
from core.db import make_engine
from core.events.store import DeliveryStatus
from core.observability.kernel import event_state, last_job_run, outbox_state
from core.outbox import OutboxStatus

CONNECT_SECONDS = 5
UPGRADE = "run `cert db upgrade` (after a backup), then restart the web and scheduler processes"
HEARTBEAT = dt.timedelta(minutes=10)  # the leader starts a job at least this often
MAIL_LATE = dt.timedelta(hours=1)
EVENTS_LATE = dt.timedelta(minutes=15)


def engine_for(config: Config) -> Engine:
    if make_url(config.database_url).get_backend_name() == "postgresql":
        return make_engine(config.database_url, connect_args={"connect_timeout": CONNECT_SECONDS})
    return make_engine(config.database_url)


def where(config: Config) -> str:
    """The database named without its password."""
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"PostgreSQL {url.host or 'local socket'}:{url.port or 5432}/{url.database}"


def database(config: Config, engine: Engine) -> Finding:
    url = make_url(config.database_url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).is_file():  # connecting would create it
        return problem(
            "database",
            f"{where(config)} does not exist",
            "check CERT_DATABASE_URL (or CERT_INSTANCE_DIR); a new installation starts with"
            " `cert db upgrade`",
        )
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                version = connection.execute(text("SHOW server_version")).scalar()
                return ok("database", f"{where(config)} answers (PostgreSQL {version})")
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        return problem(
            "database",
            f"{where(config)} does not answer ({reason})",
            "check CERT_DATABASE_URL, that the server runs and that this host may connect",
        )
    return ok("database", f"{where(config)} answers (SQLite {sqlite3.sqlite_version})")


def migrations(engine: Engine) -> Finding:
    current, head = schema.current_revision(engine), schema.head_revision()
    if current == head:
        return ok("migrations", f"the schema is current (revision {head})")
    if current is None:
        return problem("migrations", "the database has no schema (empty database)", UPGRADE)
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if current not in known:
        return problem(
            "migrations",
            f"the database is at revision {current}, which this code does not know",
            "a newer version of Vigie migrated it: run that version, or restore a backup",
        )
    return problem(
        "migrations", f"the database is at revision {current}, code expects {head}", UPGRADE
    )


def scheduler(config: Config, session: Session, clock: Clock) -> Finding:
    state = leadership(config, session)
    last = last_job_run(session, clock.now())
    if not state.held:
        return warning(
            "scheduler",
            "no scheduler holds the leader lock: mail, feeds, playbooks and events wait",
            "start `cert scheduler` (one or more; one leads, the others stand by)",
        )
    who = state.runner or "a scheduler"
    if last is None or clock.now() - last > HEARTBEAT:
        since = "in the last two days" if last is None else f"since {_at(last)}"
        return warning(
            "scheduler",
            f"{who} leads but has started no job {since}",
            "look at that scheduler's log; restart it if it hangs",
        )
    age = int((clock.now() - last).total_seconds())
    return ok("scheduler", f"{who} leads; last job started {age} s ago")


def outbox(session: Session, clock: Clock) -> Finding:
    state = outbox_state(session)
    failed, pending = state.counts[OutboxStatus.FAILED], state.counts[OutboxStatus.PENDING]
    if failed:
        return warning(
            "outbox",
            f"{failed} e-mail(s) given up after repeated failures",
            "`cert mail status` lists them with their errors (SMTP server, refused addresses)",
        )
    if state.oldest_pending is not None and clock.now() - state.oldest_pending > MAIL_LATE:
        return warning(
            "outbox",
            f"{pending} e-mail(s) waiting, the oldest since {_at(state.oldest_pending)}",
            "check that a scheduler leads and that the SMTP server accepts mail",
        )
    return ok("outbox", f"{pending} e-mail(s) waiting, none failed")


def events(session: Session, clock: Clock) -> Finding:
    state = event_state(session)
    failed, pending = state.counts[DeliveryStatus.FAILED], state.counts[DeliveryStatus.PENDING]
    if failed:
        return warning(
            "events",
            f"{failed} domain event delivery(ies) given up",
            "`cert events list --status failed` shows them and their errors; fix the cause",
        )
    if state.oldest_pending is not None and clock.now() - state.oldest_pending > EVENTS_LATE:
        return warning(
            "events",
            f"{pending + state.undispatched} event(s) waiting since {_at(state.oldest_pending)}",
            "check that a scheduler leads (its events.deliver job hands them over)",
        )
    return ok("events", f"{pending + state.undispatched} event(s) waiting, no delivery failed")


def _at(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"
