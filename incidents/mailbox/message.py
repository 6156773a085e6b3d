"""What a received message says, once parsed (pure types; :func:`.parsing.parse` builds them)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class Automatic(enum.StrEnum):
    """Why a message was written by a robot (RFC 3834 and practice): never answered."""

    AUTO_REPLY = "auto_reply"  # Auto-Submitted ≠ no, X-Autoreply, out-of-office subjects…
    BULK = "bulk"  # Precedence: bulk/junk/list, List-Id, List-Unsubscribe
    BOUNCE = "bounce"  # multipart/report (delivery-status, disposition-notification), MAILER-DAEMON


@dataclass(frozen=True)
class MailPart:
    """A file the message carries: an attachment, or a forwarded message (``message/rfc822``)."""

    filename: str  # as the message names it (decoded); made safe when stored
    content: bytes  # the decoded bytes; sniffed when stored (never the declared type)
    declared_type: str  # what the message says it is (shown, never trusted)
    forwarded: bool = False  # a message/rfc822 part: kept whole as a ``.eml`` file
    # a forwarded message: its headers of interest and decoded text parts, for observables
    text: str | None = None
    too_large: bool = False  # beyond the attachment limit: ``content`` is empty, name kept


@dataclass(frozen=True)
class ParsedMail:
    """A message as Vigie reads it (all text decoded to ``str``; headers unfolded)."""

    message_id: str | None  # "<id@host>" (angle brackets kept, as in the outbox)
    in_reply_to: tuple[str, ...]  # Message-IDs, "<…>"
    references: tuple[str, ...]  # Message-IDs, "<…>", oldest first
    from_address: str | None  # lower-cased addr-spec of From (None when missing or unusable)
    from_name: str | None  # display name of From, decoded
    reply_to: str | None  # lower-cased addr-spec of Reply-To, if any
    to: tuple[str, ...]  # lower-cased addr-specs of To and Cc
    subject: str  # decoded (RFC 2047), "" when missing
    sent_at: dt.datetime | None  # the Date header, aware, None when missing or invalid
    text: str  # the body as plain text: text/plain, else the HTML turned into safe text
    html_only: bool  # the text was made from HTML
    attachments: tuple[MailPart, ...] = ()
    automatic: Automatic | None = None  # set when a robot wrote it (see :class:`Automatic`)
    automatic_detail: str | None = None  # which header or pattern said so
    # raw values of Authentication-Results headers, topmost (most recent) first
    authentication_results: tuple[str, ...] = ()
    return_path: str | None = None  # "" for the null sender "<>" (bounces), None when absent
    defects: tuple[str, ...] = field(default=())  # what the parser found wrong (kept, shown)
