"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording what it receives."""

from __future__ import annotations

import email
import socket
import threading
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: tuple[str, int] | None = None  # the client's address: one per SMTP connection


@dataclass
class RecordingHandler:
    """Accepts every message except for the addresses in ``refuse`` (550 at RCPT time)."""

    refuse: Collection[str] = ()
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, session.peer)
            )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == "s3cret", handled=False)

    def connections(self) -> int:
        """How many SMTP connections delivered the messages received (distinct client ports)."""
        with self.lock:
            return len({r.peer for r in self.received})

    def per_message_id(self) -> Counter[str]:
        with self.lock:
            return Counter(str(r.message["Message-ID"]) for r in self.received)


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    controller: Controller | None = None
    running: bool = True

    def stop(self) -> None:
        """Stop the server now (its open connections drop), before the ``with`` block ends."""
        if self.running and self.controller is not None:
            self.controller.stop()
        self.running = False

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(
    port: int | None = None, *, refuse: Collection[str] = (), with_auth: bool = False
) -> Iterator[SmtpServer]:
    """Run aiosmtpd in a thread for the duration of the ``with`` block."""
    handler = RecordingHandler(refuse=refuse)
    options: dict[str, Any] = {}
    if with_auth:  # AUTH over plain text is only acceptable on a loopback test server
        options = {
            "authenticator": handler.authenticate,
            "auth_require_tls": False,
            "auth_exclude_mechanism": ["LOGIN"],  # smtplib then uses AUTH PLAIN only
        }
    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    server = SmtpServer(controller.hostname, controller.port, handler, controller)
    try:
        yield server
    finally:
        server.stop()
