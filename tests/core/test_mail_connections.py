"""The outbox drain sends several messages per SMTP connection, and survives the server going
away mid-batch: the rest is retried later, none lost, none sent twice (real aiosmtpd, both
databases)."""

from __future__ import annotations

import smtplib
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from email.message import EmailMessage

import pytest

from core.clock import FrozenClock
from core.config import SmtpSettings
from core.db import SessionFactory
from core.mail_sender import RECORD_EVERY
from core.mailers import MailerSession, MemoryMailer, SmtpMailer, SmtpSession, session_of
from tests.core.test_mail_templates import queue_template
from tests.kit.outbox import all_rows, drain, mailer_for, queue
from tests.kit.smtp import SmtpServer, free_port, smtp_server


def test_a_batch_goes_over_one_connection_and_every_attempt_is_recorded(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    ids = queue(factory, clock, RECORD_EVERY + 10)  # more than one group of outcomes
    assert drain(factory, mailer_for(smtp), clock) == {"sent": 60, "retried": 0, "failed": 0}
    assert smtp.handler.per_message_id() == dict.fromkeys(ids, 1)
    assert smtp.handler.connections() == 1
    rows = all_rows(factory)
    assert {(r.status, r.attempts, len(r.attempt_log)) for r in rows} == {("sent", 1, 1)}


def test_a_session_reconnects_after_max_messages(smtp: SmtpServer) -> None:
    mailer = mailer_for(smtp)
    with mailer.session(max_messages=4) as session:
        for i in range(10):
            session.send(_message(i))
        assert session.connections == 3
    assert smtp.handler.connections() == 3
    assert len(smtp.handler.received) == 10


def test_a_refused_recipient_keeps_the_connection_for_the_next_message() -> None:
    with smtp_server(refuse={"r1@example.org"}) as server:
        with mailer_for(server).session() as session:
            session.send(_message(0))
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                session.send(_message(1))
            session.send(_message(2))  # after RSET, on the same connection
            assert session.connections == 1
        assert [r.rcpt_tos for r in server.handler.received] == [
            ["r0@example.org"],
            ["r2@example.org"],
        ]
        assert server.handler.connections() == 1


def test_server_stopped_mid_batch_the_rest_is_retried_and_delivered_once(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    port = free_port()
    ids = queue(factory, clock, 10)
    received: Counter[str] = Counter()
    mailer = _StoppingMailer(SmtpSettings(host="127.0.0.1", port=port, timeout=5), after=3)
    with smtp_server(port) as first:
        mailer.stop = first_stop = _Stopper(first)
        counts = drain(factory, mailer, clock)
        assert first_stop.stopped
        received.update(first.handler.per_message_id())
    assert counts == {"sent": 3, "retried": 7, "failed": 0}
    rows = all_rows(factory)
    assert [r.status for r in rows] == ["sent"] * 3 + ["pending"] * 7
    errors = [(r.last_error or "").split(":")[0] for r in rows[3:]]
    # the open connection dropped under the 4th message; the next ones found nobody listening
    assert errors == ["SMTPServerDisconnected"] + ["ConnectionRefusedError"] * 6

    clock.advance(seconds=30)  # the back-off after a first failure
    with smtp_server(port) as second:
        mailer.stop = None
        assert drain(factory, mailer, clock) == {"sent": 7, "retried": 0, "failed": 0}
        received.update(second.handler.per_message_id())
        assert second.handler.connections() == 1
    assert received == dict.fromkeys(ids, 1)
    assert {r.status for r in all_rows(factory)} == {"sent"}
    assert [len(r.attempt_log) for r in all_rows(factory)] == [1] * 3 + [2] * 7


def test_a_mailer_without_sessions_sends_one_by_one(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    mailer = MemoryMailer()
    with session_of(mailer) as session:
        session.send(_message(0))
    ids = queue(factory, clock, 3)
    assert drain(factory, mailer, clock)["sent"] == 3
    assert [m["Message-ID"] for m in mailer.sent[1:]] == ids


def test_one_shot_send_still_opens_and_closes_its_own_connection(smtp: SmtpServer) -> None:
    mailer = mailer_for(smtp)
    mailer.send(_message(0))
    mailer.send(_message(1))
    assert smtp.handler.connections() == 2


# ------------------------------------------------------------------ helpers
def _message(i: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "cert@cert.example",
        f"r{i}@example.org",
        "x",
    )
    message["Message-ID"] = f"<m{i}@cert.example>"
    message.set_content(f"message {i}")
    return message


class _Stopper:
    def __init__(self, server: SmtpServer) -> None:
        self.server, self.stopped = server, False

    def __call__(self) -> None:
        self.server.stop()
        self.stopped = True


class _StoppingMailer(SmtpMailer):
    """An SMTP mailer whose session stops the server after ``after`` messages."""

    stop: _Stopper | None = None

    def __init__(self, settings: SmtpSettings, *, after: int) -> None:
        super().__init__(settings)
        self.after = after

    def session(self, max_messages: int = 100) -> AbstractContextManager[SmtpSession]:
        return self._stopping(super().session(max_messages))

    @contextmanager
    def _stopping(self, inner: AbstractContextManager[SmtpSession]) -> Iterator[SmtpSession]:
        with inner as session:
            original = session.send
            sent = 0

            def send(message: EmailMessage) -> None:
                nonlocal sent
                original(message)
                sent += 1
                if sent == self.after and self.stop is not None:
                    self.stop()

            session.send = send  # type: ignore[method-assign]
            yield session


_: type[MailerSession] = SmtpSession  # an SmtpSession is a MailerSession


def test_alike_messages_share_their_rendering_yet_each_arrives_whole_and_addressed(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    """A publication queues one template and context per language: the sender renders and
    builds each body once per claim; every message keeps its own recipient and Message-ID."""
    people = [("a@interieur.gov.ma", "fr"), ("b@sante.gov.ma", "ar"), ("c@justice.gov.ma", "fr")]
    for address, language in people:
        queue_template(factory, clock, to=address, language=language)
    assert drain(factory, mailer_for(smtp), clock)["sent"] == 3
    got = {r.rcpt_tos[0]: r.message for r in smtp.handler.received}
    assert sorted(got) == sorted(a for a, _ in people)
    assert len({str(m["Message-ID"]) for m in got.values()}) == 3
    for address, language in people:
        message = got[address]
        assert (message["To"], message["Content-Language"]) == (address, language)
        assert message.get_content_type() == "multipart/alternative"
        parts = [p.get_content_type() for p in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]
    text_a, text_c = (body_of(got[a]) for a in ("a@interieur.gov.ma", "c@justice.gov.ma"))
    assert text_a == text_c and "Hameçonnage" in text_a
    assert "التصيد" in body_of(got["b@sante.gov.ma"])


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())
