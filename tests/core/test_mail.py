"""The mail outbox: queueing in the business transaction, and at-least-once delivery over SMTP.

Delivery tests talk to a real aiosmtpd server on 127.0.0.1 (``tests.kit.smtp``) and run on
SQLite and PostgreSQL with committed rows, since the sender opens its own sessions.
"""

from __future__ import annotations

import datetime as dt
import threading
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

import cert.cli.mail  # noqa: F401  (registers ``cert mail``)
from core.clock import FrozenClock
from core.config import SmtpSettings
from core.db import SessionFactory
from core.mail import enqueue_mail
from core.mailers import MemoryMailer, SmtpMailer
from core.outbox import OutboxMessage, OutboxStatus
from core.uow import transaction
from tests.dbs import TestDatabase
from tests.kit.outbox import DOMAIN, MAIL_FROM, all_rows, drain, mailer_for, queue
from tests.kit.smtp import SmtpServer, free_port, smtp_server


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
    with transaction(factory) as session:
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
    with transaction(factory) as session:  # two senders were killed while sending
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
