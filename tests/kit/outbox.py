"""Outbox test helpers: a session factory on a fresh database, a live SMTP server, queueing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import cert.cli.mail  # noqa: F401  (registers ``cert mail``)
from core.clock import FrozenClock, SystemClock
from core.config import SmtpSettings
from core.db import SessionFactory
from core.mail import enqueue_mail
from core.mail_sender import drain_outbox
from core.mailers import Mailer, SmtpMailer
from core.outbox import OutboxMessage
from core.uow import transaction
from tests.kit.smtp import SmtpServer

MAIL_FROM = "Vigie <cert@cert.example>"
DOMAIN = "cert.example"


def queue(factory: SessionFactory, clock: FrozenClock | SystemClock, count: int = 1) -> list[str]:
    """Commit ``count`` messages; return their Message-IDs."""
    with transaction(factory) as session:
        rows = [
            enqueue_mail(
                session,
                to=f"rssi{i}@ministere.example",
                subject=f"Incident {i}",
                text=f"Bonjour {i}",
                clock=clock,
                mail_domain=DOMAIN,
            )
            for i in range(count)
        ]
        return [row.message_id for row in rows]


def all_rows(factory: SessionFactory) -> list[OutboxMessage]:
    with transaction(factory) as session:
        query = select(OutboxMessage).options(selectinload(OutboxMessage.attempt_log))
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def mailer_for(server: SmtpServer) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host=server.host, port=server.port, timeout=5))


def drain(
    factory: SessionFactory,
    mailer: Mailer,
    clock: FrozenClock,
    *,
    max_attempts: int = 8,
    batch_size: int = 100,
    lease_seconds: int = 300,
) -> dict[str, int]:
    return drain_outbox(
        factory,
        mailer,
        clock=clock,
        mail_from=MAIL_FROM,
        max_attempts=max_attempts,
        batch_size=batch_size,
        lease_seconds=lease_seconds,
    )
