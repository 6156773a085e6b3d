"""The mail outbox: queueing rules, message building, the command line and SMTP client options."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.orm import Session

import cert.cli.mail  # noqa: F401  (registers ``cert mail``)
from cert.cli import CliContext, cli
from core.clock import FrozenClock, SystemClock
from core.config import parse_smtp_url
from core.db import SessionFactory
from core.errors import ValidationFailed
from core.mail import domain_of, enqueue_mail
from core.mail_compose import build_message
from core.mail_sender import exponential_backoff
from core.mailers import SmtpMailer, is_permanent
from core.outbox import OutboxMessage, OutboxStatus
from core.uow import transaction
from tests.dbs import TestDatabase
from tests.kit.outbox import DOMAIN, MAIL_FROM, queue
from tests.kit.smtp import SmtpServer, smtp_server


# ------------------------------------------------------------------ queueing
def test_enqueue_names_every_invalid_field(db_session: Session, clock: FrozenClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        enqueue_mail(
            db_session,
            to="not an address",
            subject="Injected\r\nBcc: victim@example.org",
            text=" ",
            language="français",
            tlp="TLP:AMBER\n",
            related=("incident", ""),
            clock=clock,
            mail_domain=DOMAIN,
        )
    assert set(caught.value.fields) == {"to", "subject", "text", "language", "tlp", "related"}


def test_enqueue_flushes_a_pending_row_due_now(db_session: Session, clock: FrozenClock) -> None:
    row = enqueue_mail(
        db_session,
        to=" RSSI@Ministere.example ",
        subject="Alerte",
        text="Bonjour",
        related=("incident", 42),
        clock=clock,
        mail_domain=DOMAIN,
    )
    assert row.id is not None
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at == clock.now()
    assert row.message_id.startswith("<") and row.message_id.endswith(f"@{DOMAIN}>")
    assert (row.to_addr, row.related_type, row.related_id) == (
        "RSSI@ministere.example",
        "incident",
        "42",
    )


def test_domain_of_the_sender() -> None:
    assert domain_of("Vigie <noreply@cert.example>") == "cert.example"
    assert domain_of("nobody") == "localhost"


def test_text_only_message_is_a_single_part(clock: FrozenClock) -> None:
    row = OutboxMessage(
        message_id="<1@cert.example>",
        to_addr="a@example.org",
        subject="Sujet",
        text_body="Texte",
        language="fr",
        created_at=clock.now(),
    )
    message = build_message(row, MAIL_FROM)
    assert message.get_content_type() == "text/plain"
    assert message["Date"] == "Thu, 15 Jan 2026 09:00:00 +0000"
    assert "X-TLP" not in message


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    delays = [exponential_backoff(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)]
    assert delays == [30, 60, 120, 240, 3600, 3600]


def test_permanent_failures() -> None:
    assert is_permanent(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")}))
    assert not is_permanent(smtplib.SMTPRecipientsRefused({"a@x": (451, b"try later")}))
    assert is_permanent(smtplib.SMTPDataError(554, b"rejected"))
    assert not is_permanent(smtplib.SMTPAuthenticationError(535, b"bad credentials"))
    assert not is_permanent(ConnectionRefusedError())


# ------------------------------------------------------------------ command line
def test_cli_send_pending_delivers_and_prints_counts(
    fresh_database: TestDatabase, factory: SessionFactory, smtp: SmtpServer, tmp_path: Path
) -> None:
    ids = queue(factory, SystemClock(), 2)
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SMTP_URL": smtp.url,
        "CERT_SECRET_KEY": "k" * 40,
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_MAIL_FROM": MAIL_FROM,
    }
    context = CliContext()
    try:
        result = CliRunner().invoke(
            cli, ["mail", "send-pending", "--batch-size", "5"], env=env, obj=context
        )
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "sent: 2  retried: 0  failed: 0"
        assert smtp.handler.per_message_id() == dict.fromkeys(ids, 1)

        with transaction(factory) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.message_id == ids[0])
                .values(status=OutboxStatus.FAILED, last_error="SMTPRecipientsRefused: 550")
            )
        result = CliRunner().invoke(cli, ["mail", "status"], env=env, obj=context)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0] == "pending: 0  sending: 0  sent: 1  failed: 1"
        assert "rssi0@ministere.example" in lines[1] and "SMTPRecipientsRefused: 550" in lines[1]
    finally:
        if "engine" in vars(context):
            context.engine.dispose()


# ------------------------------------------------------------------ SMTP client options
def test_smtp_mailer_logs_in_when_credentials_are_given() -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = MAIL_FROM, "a@example.org", "x"
    message.set_content("y")
    with smtp_server(with_auth=True) as server:
        good = parse_smtp_url("CERT_SMTP_URL", f"smtp://vigie:s3cret@{server.host}:{server.port}")
        SmtpMailer(good).send(message)
        bad = parse_smtp_url("CERT_SMTP_URL", f"smtp://vigie:wrong@{server.host}:{server.port}")
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            SmtpMailer(bad).send(message)
        assert not is_permanent(caught.value)
        assert server.handler.logins == [("vigie", "s3cret"), ("vigie", "wrong")]
        assert len(server.handler.received) == 1


def test_smtp_mailer_picks_the_client_from_the_url(smtp: SmtpServer) -> None:
    plain = SmtpMailer(parse_smtp_url("CERT_SMTP_URL", smtp.url))
    client = plain.connect()
    try:
        assert type(client) is smtplib.SMTP
    finally:
        client.quit()
    address = f"{smtp.host}:{smtp.port}"
    starttls = SmtpMailer(parse_smtp_url("CERT_SMTP_URL", f"smtp://{address}?starttls=1"))
    with pytest.raises(smtplib.SMTPNotSupportedError, match="STARTTLS"):
        starttls.connect()  # the test server offers no TLS: the mailer refuses to go on in clear
    implicit = SmtpMailer(parse_smtp_url("CERT_SMTP_URL", f"smtps://{address}?timeout=5"))
    assert implicit.settings.ssl
    with pytest.raises(ssl.SSLError):
        implicit.connect()  # TLS handshake from the first byte, answered in plain text
