"""``cert doctor``: check what a running Vigie depends on and say what is wrong in plain words.

One finding per check (:class:`~cert.doctor.findings.Finding`: ok, warning or problem, and what
to do), in this order: configuration (every setting, the secret key, the base URL), database
(reachable, backend and version), migrations (current against head), scheduler leadership and
heartbeat, outbox and domain-event backlog and failures, SMTP, the rate limiter's storage, the
upload directory, the IMAP mailbox and single sign-on when configured, and the PDF fonts. Checks
that need the database are skipped (and say so) when it does not answer or its schema is not
current. Nothing is written, no mail is sent, nobody signs in.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cert.doctor import database_checks, service_checks, settings_checks
from cert.doctor.findings import Finding, Level, problem, warning
from core.clock import Clock, SystemClock
from core.config import Config
from core.db import make_session_factory

__all__ = ["Finding", "Level", "examine"]


def examine(environ: Mapping[str, str] | None = None, clock: Clock | None = None) -> list[Finding]:
    """Every check's finding, for the configuration ``environ`` (default: the process's)."""
    clock = clock or SystemClock()
    config, findings = settings_checks.load(environ)
    if config is None:
        return findings
    engine = database_checks.engine_for(config)
    try:
        reached = database_checks.database(config, engine)
        findings.append(reached)
        if reached.level is Level.OK:
            current = database_checks.migrations(engine)
            findings.append(current)
            if current.level is Level.OK:
                findings.extend(_backlog(config, engine, clock))
            else:
                findings.append(_skipped("the schema is not current"))
        else:
            findings.append(_skipped("the database does not answer"))
    finally:
        engine.dispose()
    findings.append(service_checks.smtp(config))
    findings.append(service_checks.rate_limits(config))
    findings.append(service_checks.upload_dir(config))
    for optional in (service_checks.mailbox(config), service_checks.single_sign_on(config)):
        if optional is not None:
            findings.append(optional)
    findings.append(service_checks.pdf_fonts())
    return findings


def _backlog(config: Config, engine: Engine, clock: Clock) -> list[Finding]:
    session = make_session_factory(engine)()
    try:
        return [
            database_checks.scheduler(config, session, clock),
            database_checks.outbox(session, clock),
            database_checks.events(session, clock),
        ]
    except SQLAlchemyError as exc:
        return [problem("database", f"a query failed ({exc.__class__.__name__})", "see the log")]
    finally:
        session.close()  # read only: its transaction ends unkept


def _skipped(why: str) -> Finding:
    return warning("scheduler, outbox, events", f"not checked: {why}", "fix the problem above")
