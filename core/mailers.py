"""Mail transports (kernel): the ``Mailer`` protocol, SMTP delivery and an in-memory mailer.

``core.mail`` queues and drains the outbox through these; it re-exports them for its callers.
"""

from __future__ import annotations

import smtplib
import ssl
from contextlib import suppress
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.config import SmtpSettings


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise; :func:`is_permanent` decides whether to retry."""


class PermanentFailure(Exception):
    """Raised by a mailer when retrying the same message can never succeed."""


class SmtpMailer:
    """Delivers each message over its own SMTP connection (``smtplib``)."""

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
