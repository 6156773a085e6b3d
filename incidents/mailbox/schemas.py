"""The held-mail queue's API types (pydantic): what ``/api/v1/mail`` accepts and returns."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core import inputs
from core.markings import Tlp
from incidents.intake.schemas import IncidentOut
from incidents.mailbox.models import HoldReason

StatusFilter = Literal[
    "held", "failed", "handled", "received", "incident", "reply", "discarded", "duplicate"
]


class MailQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: StatusFilter = Field(
        "held",
        description="`held` (default), `failed`, `handled` (incident, reply, discarded and "
        "duplicate together) or one status",
    )
    reason: HoldReason | None = Field(None, description="Only messages held for this reason")
    before: int | None = Field(
        None, ge=1, le=inputs.MAX_ID, description="Keyset cursor: messages older than this id"
    )
    limit: int = Field(50, ge=1, le=100, description="Messages per page (1–100)")


class Verdicts(BaseModel):
    authserv_id: str | None = Field(None, description="The trusted receiving MTA")
    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None


class MailOut(BaseModel):
    """A received message as the held-mail queue shows it (its text by ``GET /mail/<id>``)."""

    id: int
    received_at: dt.datetime
    source: str = Field(description="imap or pipe")
    status: str = Field(description="received, failed, held, incident, reply, discarded, …")
    hold_reason: str | None = Field(None, description="Why it was held (unknown_sender, …)")
    hold_detail: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    subject: str | None = None
    message_id: str | None = None
    sent_at: dt.datetime | None = Field(None, description="The Date header")
    size: int = Field(description="Bytes of the raw message")
    authentication: Verdicts | None = Field(
        None, description="The trusted MTA's verdicts, null when none was found"
    )
    incident: str | None = Field(None, description="The incident's reference, once decided")
    handled_by: str | None = Field(None, description="E-mail of the analyst who decided")
    handled_at: dt.datetime | None = None
    handling_note: str | None = None
    error: str | None = Field(None, description="Why processing failed (status failed)")


class AttachmentOut(BaseModel):
    filename: str
    declared_type: str = Field(description="As the message declares it (never trusted)")
    size: int
    forwarded: bool = Field(description="A forwarded message (message/rfc822)")
    too_large: bool = Field(description="Beyond the attachment limit: not kept")


class MailDetailOut(MailOut):
    to: list[str] = Field(default_factory=list, description="To and Cc addresses")
    text: str | None = Field(None, description="The body as plain text; null when unreadable")
    html_only: bool = False
    attachments: list[AttachmentOut] = Field(default_factory=list)


class MailIncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: str = Field(min_length=1, max_length=64, description="Organisation slug")
    title: str | None = Field(None, max_length=200, description="Default: the cleaned subject")
    tlp: Tlp = Field(Tlp.AMBER, description="Default TLP:AMBER")
    acknowledge: bool = Field(
        False,
        description="Send the acknowledgement to the sender: only for a contact of the "
        "organisation (else 422 naming `acknowledge`)",
    )
    note: str | None = Field(None, max_length=500)


class MailAttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=32, description="e.g. MACERT-2026-000042")
    note: str | None = Field(None, max_length=500)


class MailDiscardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=500)


class MailDecisionOut(BaseModel):
    """A decision's result: the message as it now is, and its incident (null when discarded)."""

    mail: MailOut
    incident: IncidentOut | None = None
