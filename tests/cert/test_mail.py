"""The mail outbox: queueing in the business transaction, and at-least-once delivery over SMTP.

Delivery tests talk to a real aiosmtpd server on 127.0.0.1 (``tests.cert.smtp_server``) and run on
SQLite and PostgreSQL with committed rows, since the sender opens its own sessions.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

import cert.cli.mail  # noqa: F401  (registers ``cert mail``)
from cert.cli import CliContext, cli
from cert.clock import FrozenClock, SystemClock
from cert.config import SmtpSettings, parse_smtp_url
from cert.db import SessionFactory, session_scope
from cert.errors import ValidationFailed
from cert.mail import (
    Mailer,
    MemoryMailer,
    SmtpMailer,
    build_message,
    domain_of,
    drain_outbox,
    enqueue_mail,
    exponential_backoff,
    is_permanent,
)
from cert.outbox import OutboxMessage, OutboxStatus
from tests.cert.smtp_server import SmtpServer, free_port, smtp_server
from tests.dbs import TestDatabase

MAIL_FROM = "Vigie <cert@cert.example>"
DOMAIN = "cert.example"


@pytest.fixture
def factory(fresh_database: TestDatabase) -> SessionFactory:
    return sessionmaker(bind=fresh_database.engine, expire_on_commit=False)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def queue(factory: SessionFactory, clock: FrozenClock | SystemClock, count: int = 1) -> list[str]:
    """Commit ``count`` messages; return their Message-IDs."""
    with session_scope(factory) as session:
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
    with session_scope(factory) as session:
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


# ------------------------------------------------------------------ delivery
def test_mail_queued_in_a_rolled_back_transaction_is_never_sent(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    session = factory()
    enqueue_mail(
        session, to="a@example.org", subject="x", text="y", clock=clock, mail_domain=DOMAIN
    )
    session.rollback()
    session.close()
    [kept] = queue(factory, clock)

    assert drain(factory, mailer_for(smtp), clock) == {"sent": 1, "retried": 0, "failed": 0}
    assert list(smtp.handler.per_message_id()) == [kept]


def test_multipart_message_arrives_as_queued(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    with session_scope(factory) as session:
        row = enqueue_mail(
            session,
            to="dsi@sante.example",
            subject="Alerte de sécurité — تنبيه أمني",
            text="Texte brut",
            html="<p>Texte <b>riche</b></p>",
            language="ar",
            tlp="TLP:AMBER",
            clock=clock,
            mail_domain=DOMAIN,
        )
    drain(factory, mailer_for(smtp), clock)

    [received] = smtp.handler.received
    assert (received.mail_from, received.rcpt_tos) == ("cert@cert.example", ["dsi@sante.example"])
    message = received.message
    assert message["Subject"] == "Alerte de sécurité — تنبيه أمني"
    assert (message["From"], message["To"]) == (MAIL_FROM, "dsi@sante.example")
    assert message["Message-ID"] == row.message_id
    assert (message["Content-Language"], message["X-TLP"]) == ("ar", "TLP:AMBER")
    assert message.get_content_type() == "multipart/alternative"
    text, html = (part for part in message.iter_parts() if isinstance(part, EmailMessage))
    assert (text.get_content_type(), text.get_content().strip()) == ("text/plain", "Texte brut")
    assert html.get_content_type() == "text/html"
    assert "<b>riche</b>" in html.get_content()
    [stored] = all_rows(factory)
    assert (stored.status, stored.sent_at, stored.attempts) == ("sent", clock.now(), 1)


def test_smtp_down_backs_off_then_delivers_each_message_exactly_once(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    port = free_port()
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, timeout=5))
    ids = queue(factory, clock, 3)

    assert drain(factory, mailer, clock) == {"sent": 0, "retried": 3, "failed": 0}
    first_failure = clock.now()
    for row in all_rows(factory):
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == first_failure + dt.timedelta(seconds=30)
        assert "ConnectionRefusedError" in (row.last_error or "")
        assert [a.ok for a in row.attempt_log] == [False]

    clock.advance(seconds=29)  # back-off not over: nothing is due
    assert drain(factory, mailer, clock) == {"sent": 0, "retried": 0, "failed": 0}

    second_failure = clock.advance(seconds=1)
    assert drain(factory, mailer, clock)["retried"] == 3
    assert {r.next_attempt_at for r in all_rows(factory)} == {
        second_failure + dt.timedelta(seconds=60)
    }

    with smtp_server(port) as server:
        clock.advance(seconds=59)
        assert drain(factory, mailer, clock)["sent"] == 0
        clock.advance(seconds=1)
        assert drain(factory, mailer, clock) == {"sent": 3, "retried": 0, "failed": 0}
        clock.advance(hours=1)
        assert drain(factory, mailer, clock) == {"sent": 0, "retried": 0, "failed": 0}
        assert server.handler.per_message_id() == dict.fromkeys(ids, 1)

    for row in all_rows(factory):
        assert (row.status, row.sent_at, row.attempts) == (
            "sent",
            clock.now() - dt.timedelta(hours=1),
            3,
        )
        assert [a.ok for a in row.attempt_log] == [False, False, True]


def test_after_max_attempts_the_message_fails_and_keeps_its_last_error(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    queue(factory, clock)
    mailer = MemoryMailer(fail_with=ConnectionResetError("relay hung up"))
    outcomes = []
    for _ in range(3):
        outcomes.append(drain(factory, mailer, clock, max_attempts=3))
        clock.advance(hours=2)
    assert [o["retried"] for o in outcomes] == [1, 1, 0]
    assert outcomes[-1]["failed"] == 1
    [row] = all_rows(factory)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error == "ConnectionResetError: relay hung up"
    assert len(row.attempt_log) == 3
    assert drain(factory, mailer, clock) == {"sent": 0, "retried": 0, "failed": 0}


def test_a_refused_recipient_fails_at_once_and_the_batch_goes_on(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    queue(factory, clock, 3)
    with smtp_server(refuse={"rssi1@ministere.example"}) as server:
        counts = drain(factory, mailer_for(server), clock)
        assert len(server.handler.received) == 2
    assert counts == {"sent": 2, "retried": 0, "failed": 1}
    statuses = [(r.to_addr, r.status) for r in all_rows(factory)]
    assert statuses[1] == ("rssi1@ministere.example", "failed")
    assert "550" in (all_rows(factory)[1].last_error or "")


def test_expired_lease_is_resent_with_the_same_message_id_a_live_one_is_not(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    dead, alive = queue(factory, clock, 2)
    with session_scope(factory) as session:  # two senders were killed while sending
        for message_id, lease in ((dead, -1), (alive, 60)):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.message_id == message_id)
                .values(
                    status=OutboxStatus.SENDING,
                    attempts=1,
                    lease_until=clock.now() + dt.timedelta(seconds=lease),
                )
            )

    assert drain(factory, mailer_for(smtp), clock) == {"sent": 1, "retried": 0, "failed": 0}
    assert smtp.handler.per_message_id() == {dead: 1}
    by_id = {r.message_id: r for r in all_rows(factory)}
    assert (by_id[dead].status, by_id[dead].attempts) == ("sent", 2)
    assert by_id[alive].status == "sending"


def test_a_slow_batch_hands_back_what_it_could_not_send_within_its_lease(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    class SlowMailer(MemoryMailer):
        def send(self, message: EmailMessage) -> None:
            super().send(message)
            clock.advance(seconds=100)

    queue(factory, clock, 5)
    mailer = SlowMailer()
    assert drain(factory, mailer, clock, lease_seconds=300)["sent"] == 3
    rest = [r for r in all_rows(factory) if r.status != "sent"]
    assert [(r.status, r.attempts, r.lease_until) for r in rest] == [("pending", 0, None)] * 2
    assert drain(factory, mailer, clock, lease_seconds=300)["sent"] == 2
    assert len({m["Message-ID"] for m in mailer.sent}) == 5


def test_two_concurrent_senders_deliver_each_message_once(
    fresh_database: TestDatabase, clock: FrozenClock, smtp: SmtpServer
) -> None:
    ids = queue(sessionmaker(bind=fresh_database.engine), clock, 12)
    start = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def sender() -> None:
        own_sessions = sessionmaker(bind=fresh_database.engine, expire_on_commit=False)
        try:
            start.wait(timeout=10)
            while (counts := drain(own_sessions, mailer_for(smtp), clock, batch_size=2))["sent"]:
                sent.append(counts["sent"])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(sent) == 12
    assert smtp.handler.per_message_id() == dict.fromkeys(ids, 1)


@pytest.mark.postgres
@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_postgres_sender_skips_rows_another_sender_has_locked(
    fresh_database: TestDatabase, factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    """SKIP LOCKED is PostgreSQL-specific (SQLite senders serialise on BEGIN IMMEDIATE)."""
    locked, free = queue(factory, clock, 2)
    counts: list[dict[str, int]] = []
    with factory() as other_sender:  # holds a row lock, as in the middle of its own claim
        query = select(OutboxMessage).where(OutboxMessage.message_id == locked)
        other_sender.scalars(query.with_for_update()).one()
        mailer = mailer_for(smtp)
        thread = threading.Thread(target=lambda: counts.append(drain(factory, mailer, clock)))
        thread.start()
        thread.join(timeout=10)
        blocked = thread.is_alive()
        other_sender.rollback()
    thread.join(timeout=10)
    assert not blocked
    assert counts == [{"sent": 1, "retried": 0, "failed": 0}]
    assert smtp.handler.per_message_id() == {free: 1}


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

        with session_scope(factory) as session:
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
