"""Mail outbox (kernel): messages are queued in the business transaction and sent later.

This module holds the table. Queuing lives in ``core.mail``, rendering and sending in
``core.mail_sender``.

A message is stored either rendered (``subject``, ``text_body``, ``html_body``) or as a template
to render when it is first claimed for sending (``template`` and ``template_context``: hot paths
such as incident intake queue the context only); the rendered content is then kept in the row,
so every attempt sends the same message.

A message that carries a secret (a link to set a password) is queued *sealed*
(:mod:`core.sealing`): its context is stored as ``{"sealed": "<sealed JSON>"}`` and its rendered
bodies sealed too; the sender opens them only to deliver, and drops them (bodies and context)
once the message is sent or given up, keeping the recipient, subject and status for the
operator.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import requestid
from core.db import Base
from core.sealing import is_sealed

SEALED_CONTEXT = "sealed"  # the only key of a sealed template context
# The extra header fields a message may carry (``OutboxMessage.headers``), and only these: a
# digest's unsubscribe links (RFC 2369 ``List-Unsubscribe``, RFC 8058 one-click). The names are
# checked when a message is queued and again when it is built; values are single lines.
EXTRA_HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post"})
MAX_HEADER_VALUE = 900  # RFC 5322 lines are at most 998 characters, the name included


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a sender until lease_until
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts, or refused permanently


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
        CheckConstraint(
            "template IS NOT NULL OR (subject IS NOT NULL AND text_body IS NOT NULL)",
            name="content",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # stable RFC 5322 Message-ID
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(500))  # None until a template is rendered
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # "package:name" of a mail template (core.i18n.render_mail) and its JSON context
    template: Mapped[str | None] = mapped_column(String(200))
    template_context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(8), default="fr")
    tlp: Mapped[str | None] = mapped_column(String(20))
    # what caused the message, e.g. ("incident", "MACERT-2026-000042")
    related_type: Mapped[str | None] = mapped_column(String(64))
    related_id: Mapped[str | None] = mapped_column(String(64))
    # the Message-ID this one answers (In-Reply-To and References): the acknowledgement of a
    # report received by e-mail threads under the reporter's message
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    # extra header fields {name: value}, names from EXTRA_HEADERS only (None: none)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    # the request (or job) that queued it, bound when the row is written (core.requestid)
    request_id: Mapped[str | None] = mapped_column(String(64), default=requestid.current)

    attempt_log: Mapped[list[OutboxAttempt]] = relationship(
        back_populates="message", order_by="OutboxAttempt.id", cascade="all, delete-orphan"
    )


class OutboxAttempt(Base):
    """One delivery attempt of one message, successful or not."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(Text)

    message: Mapped[OutboxMessage] = relationship(back_populates="attempt_log")


def header_problem(name: object, value: object) -> str | None:
    """Why ``name: value`` may not be an extra header field of a message, or None."""
    if name not in EXTRA_HEADERS:
        return f"{name!r} is not one of {', '.join(sorted(EXTRA_HEADERS))}"
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_HEADER_VALUE:
        return f"{name}: one line of 1 to {MAX_HEADER_VALUE} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return f"{name}: no line break or control character"
    return None


def sealed_context(row: OutboxMessage) -> str | None:
    """The sealed template context of ``row``, if it has one."""
    context = row.template_context
    if context is not None and set(context) == {SEALED_CONTEXT}:
        value = context[SEALED_CONTEXT]
        return value if isinstance(value, str) else None
    return None


def carries_secret(row: OutboxMessage) -> bool:
    """Whether ``row`` holds sealed content (a context or bodies)."""
    return sealed_context(row) is not None or is_sealed(row.text_body)
