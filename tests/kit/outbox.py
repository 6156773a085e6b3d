"""Outbox test helpers: a session factory on a fresh database, a live SMTP server, queueing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import cert.cli.mail  # noqa: F401  (registers ``cert mail``)
from core.clock import FrozenClock, SystemClock
from core.config import SmtpSettings
from core.db import SessionFactory
from core.mail import enqueue_mail
from core.mail_sender import drain_outbox
from core.mailers import Mailer, SmtpMailer
from core.outbox import OutboxMessage, sealed_context
from core.sealing import Sealer
from core.uow import transaction
from tests.kit.smtp import SmtpServer

MAIL_FROM = "Vigie <cert@cert.example>"
DOMAIN = "cert.example"
SECRET_KEY = "test-secret-key-" + "x" * 32  # the ``settings`` fixture's CERT_SECRET_KEY


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
    secret_key: str = SECRET_KEY,
) -> dict[str, int]:
    return drain_outbox(
        factory,
        mailer,
        clock=clock,
        mail_from=MAIL_FROM,
        max_attempts=max_attempts,
        batch_size=batch_size,
        lease_seconds=lease_seconds,
        sealer=Sealer(secret_key),
    )


def opened_context(row: OutboxMessage, secret_key: str = SECRET_KEY) -> dict[str, Any]:
    """The template context of a message queued sealed, opened as the sender would."""
    sealed = sealed_context(row)
    assert sealed is not None, "the message is not sealed"
    context: dict[str, Any] = json.loads(Sealer(secret_key).open(sealed))
    return context
