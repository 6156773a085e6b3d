"""The CERT mailbox's table (typed ORM, Flask-free; migration 0035).

``inbound_mails``: one row per message received, by IMAP (``CERT_IMAP_URL``) or on standard input
(``cert mail receive``). The raw message is stored first, under its SHA-256, with this row in its
own transaction, before anything reads it: a message that later fails is never lost and
``cert mail reprocess`` takes it again. The same bytes received twice are the same row (the
SHA-256 is unique), so a message read again after a crash is not handled twice.

What became of it is ``status``:

* ``received`` — stored, not yet processed (or processing was interrupted);
* ``failed`` — processing raised: ``error`` says why; reprocessed by ``cert mail reprocess``;
* ``held`` — for an analyst (``hold_reason``): the held-mail queue;
* ``incident`` — a new incident (``incident_id``), from a known sender or by an analyst;
* ``reply`` — added to an incident's conversation (``incident_id``), by threading or by an
  analyst attaching it;
* ``discarded`` — an analyst discarded it (or it was Vigie's own mail come back: ``loop``);
* ``duplicate`` — the same Message-ID from the same sender was handled already
  (``duplicate_of_id``).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, StrEnumType
from core.identity.models import Organisation, User
from incidents.models import Incident


class MailSource(enum.StrEnum):
    IMAP = "imap"  # the scheduler's mailbox job
    PIPE = "pipe"  # `cert mail receive` (an MTA pipe, procmail, LMTP delivery)


class MailStatus(enum.StrEnum):
    RECEIVED = "received"
    FAILED = "failed"
    HELD = "held"
    INCIDENT = "incident"
    REPLY = "reply"
    DISCARDED = "discarded"
    DUPLICATE = "duplicate"


# what an analyst may still act on
OPEN_STATUSES = (MailStatus.HELD, MailStatus.FAILED)


class HoldReason(enum.StrEnum):
    UNKNOWN_SENDER = "unknown_sender"  # neither a user nor a registered contact
    OTHER_ORGANISATION = "other_organisation"  # a reply from outside the incident's organisation
    UNKNOWN_REFERENCE = "unknown_reference"  # names an incident that does not exist
    AUTO_REPLY = "auto_reply"  # Auto-Submitted, Precedence: bulk/list, out-of-office
    BOUNCE = "bounce"  # a delivery-status notification (multipart/report), MAILER-DAEMON
    DMARC_FAIL = "dmarc_fail"  # the trusted Authentication-Results say DMARC failed
    MERGED = "merged"  # a reply to an incident merged into another one
    STAFF_SENDER = "staff_sender"  # a CERT account writing by mail: the web UI is the way
    NO_CONTENT = "no_content"  # nothing to read once parsed (no text, no attachment)
    TOO_LARGE = "too_large"  # beyond CERT_MAIL_MAX_MB
    UNAUTHENTICATED = "unauthenticated"  # CERT_MAIL_REQUIRE_AUTH and no DMARC/DKIM/SPF pass
    LOOP = "loop"  # Vigie's own mail come back (its address, or one of its Message-IDs)
    AMBIGUOUS_SENDER = "ambiguous_sender"  # a contact of several organisations, no thread


class InboundMail(Base):
    __tablename__ = "inbound_mails"
    __table_args__ = (
        # the held-mail queue and `cert mail list`: newest first within a status
        Index("ix_inbound_mails_status_id", "status", "id"),
        # duplicates: the same Message-ID from the same sender
        Index("ix_inbound_mails_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the raw bytes
    size: Mapped[int]
    source: Mapped[MailSource] = mapped_column(StrEnumType(MailSource, length=8))
    received_at: Mapped[dt.datetime]
    # headers as parsed (decoded, truncated to the column), for lists and threading
    message_id: Mapped[str | None] = mapped_column(String(255))
    from_address: Mapped[str | None] = mapped_column(String(254))  # lower-cased addr-spec
    from_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[dt.datetime | None]  # the Date header
    # the receiving MTA's verdicts (trusted authserv-id only): {"authserv_id", "spf", "dkim",
    # "dmarc", "header"}; None when no trusted Authentication-Results header was found
    authentication: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[MailStatus] = mapped_column(
        StrEnumType(MailStatus, length=12), default=MailStatus.RECEIVED
    )
    hold_reason: Mapped[HoldReason | None] = mapped_column(StrEnumType(HoldReason, length=24))
    hold_detail: Mapped[str | None] = mapped_column(String(500))
    # the sender's organisation when known (a user's or a contact's)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[dt.datetime | None]
    # an analyst's decision on a held message
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[dt.datetime | None]
    handling_note: Mapped[str | None] = mapped_column(String(500))

    incident: Mapped[Incident | None] = relationship(lazy="raise")
    organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    handled_by: Mapped[User | None] = relationship(lazy="raise")
