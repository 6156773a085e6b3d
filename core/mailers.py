"""Mail transports (kernel): the ``Mailer`` protocol, SMTP delivery and an in-memory mailer.

``core.mail`` queues and drains the outbox through these; it re-exports them for its callers.

A mailer may also offer ``session()``: a context manager yielding a :class:`MailerSession` that
sends several messages over one connection (:class:`SmtpMailer`: reconnecting after a
connection failure and after ``max_messages``). :func:`session_of` gives every mailer a session
(one ``send`` per message for those without one), so the outbox drain uses only that.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.config import SmtpSettings


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise; :func:`is_permanent` decides whether to retry."""


class MailerSession(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` (over the session's connection) or raise, as ``Mailer.send``."""


class PermanentFailure(Exception):
    """Raised by a mailer when retrying the same message can never succeed."""


class SmtpMailer:
    """Delivers a message over its own SMTP connection (``send``, ``smtplib``), or several
    over one (``session``)."""

    def __init__(
        self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context()

    def connect(self) -> smtplib.SMTP:
        """An open, greeted (and, when configured, encrypted and authenticated) SMTP client."""
        s = self.settings
        client: smtplib.SMTP
        if s.ssl:  # smtps://: TLS from the first byte
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.ssl_context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls:
                client.ehlo()
                client.starttls(context=self.ssl_context)
                client.ehlo()
            if s.username:
                client.login(s.username, s.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def send(self, message: EmailMessage) -> None:
        client = self.connect()
        try:
            client.send_message(message)
        finally:
            # once the message is accepted, a failed QUIT must not turn into a re-send
            with suppress(smtplib.SMTPException, OSError):
                client.quit()
            client.close()

    def session(self, max_messages: int = 100) -> AbstractContextManager[SmtpSession]:
        """Messages sent over one connection, opened at the first message (see
        :class:`SmtpSession`); QUIT when the block ends."""
        return _closing(SmtpSession(self, max_messages))


class SmtpSession:
    """Several messages over one SMTP connection.

    The connection is opened for the first message, and opened again for the next message
    after ``max_messages``, after a connection failure (the failing message raises: the outbox
    retries it later) or once the server closed it. A message the server refuses (sender,
    recipient, data) raises without closing the connection: ``smtplib`` has already sent RSET,
    so the next message starts a clean transaction.
    """

    def __init__(self, mailer: SmtpMailer, max_messages: int) -> None:
        self.mailer = mailer
        self.max_messages = max(1, max_messages)
        self.connections = 0  # opened so far
        self._client: smtplib.SMTP | None = None
        self._sent = 0  # over the current connection

    def send(self, message: EmailMessage) -> None:
        client = self._client
        if client is None or client.sock is None or self._sent >= self.max_messages:
            self.close()
            client = self._client = self.mailer.connect()
            self.connections += 1
        try:
            client.send_message(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            # a refusal of this message: the connection stays usable (smtplib sent RSET),
            # except a 421 (the server closes it) or a failed RSET (smtplib closed it)
            if getattr(exc, "smtp_code", 0) == 421 or client.sock is None:
                self._drop()
            raise
        except BaseException:  # the connection is in an unknown state: a new one next time
            self._drop()
            raise
        self._sent += 1

    def close(self) -> None:
        """QUIT the current connection, if any (a failed QUIT does not matter: every message
        sent over it was accepted already)."""
        client, self._client, self._sent = self._client, None, 0
        if client is not None:
            with suppress(smtplib.SMTPException, OSError):
                client.quit()
            client.close()

    def _drop(self) -> None:
        client, self._client, self._sent = self._client, None, 0
        if client is not None:
            with suppress(OSError):
                client.close()


@contextmanager
def _closing(session: SmtpSession) -> Iterator[SmtpSession]:
    try:
        yield session
    finally:
        session.close()


class _OneBySend:
    def __init__(self, mailer: Mailer) -> None:
        self.send = mailer.send


@contextmanager
def _one_by_one(mailer: Mailer) -> Iterator[MailerSession]:
    yield _OneBySend(mailer)


def session_of(mailer: Mailer) -> AbstractContextManager[MailerSession]:
    """``mailer.session()`` when the mailer has one, else a session calling ``mailer.send``."""
    opener = getattr(mailer, "session", None)
    if callable(opener):
        opened: AbstractContextManager[MailerSession] = opener()
        return opened
    return _one_by_one(mailer)


class MemoryMailer:
    """Keeps messages in :attr:`sent` instead of sending them; raises ``fail_with`` when set."""

    def __init__(self, *, fail_with: Exception | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with = fail_with

    def send(self, message: EmailMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)


def is_permanent(exc: BaseException) -> bool:
    """True for refusals that a retry cannot fix: recipient or content refused with a 5xx code.

    Authentication and sender refusals are configuration problems: they stay retryable so that
    the queue resumes once an operator has fixed the settings.
    """
    if isinstance(exc, PermanentFailure):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


# ------------------------------------------------------------------ queueing
