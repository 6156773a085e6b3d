"""The held-mail queue: what analysts see and decide (Flask-free use cases; CERT staff only).

Each decision is audited and recorded on the message (``handled_by``, ``handled_at``,
``handling_note``): turning a held message into an incident (through the intake service, for an
organisation the analyst names), attaching it to an incident's conversation (as the
reporter's answer, with its attachments), or discarding it. Nothing is ever sent to the sender
of a held message by these actions except the acknowledgement of an incident created for a
known organisation's contact (no backscatter).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from incidents.mailbox.message import ParsedMail
from incidents.mailbox.models import InboundMail, MailStatus
from incidents.models import Incident
from incidents.settings import IntakeSettings

PAGE_SIZE = 50


@dataclass(frozen=True)
class MailPage:
    mails: list[InboundMail]
    next_before_id: int | None  # keyset pagination on (status, id) newest first


def list_mails(
    session: Session,
    actor: Actor,
    *,
    statuses: tuple[MailStatus, ...] = (MailStatus.HELD, MailStatus.FAILED),
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> MailPage:
    """Messages in ``statuses``, newest first (index ``ix_inbound_mails_status_id``)."""
    raise NotImplementedError  # helper "services" writes it


def count_open(session: Session, actor: Actor) -> int:
    """How many messages wait for an analyst (held or failed): the navigation's badge."""
    raise NotImplementedError  # helper "services" writes it


def get_mail(session: Session, actor: Actor, mail_id: int) -> InboundMail:
    """One message (``NotFound`` for a missing one; ``PermissionDenied`` for non-staff)."""
    raise NotImplementedError  # helper "services" writes it


def read_mail(mail: InboundMail, settings: IntakeSettings) -> ParsedMail:
    """The stored message parsed again, for its page (``NotFound`` when the raw file is gone)."""
    raise NotImplementedError  # helper "services" writes it


def raw_bytes(mail: InboundMail, settings: IntakeSettings) -> bytes:
    """The stored raw message (downloaded as ``.eml`` by staff, never shown inline)."""
    raise NotImplementedError  # helper "services" writes it


def make_incident(
    session: Session,
    actor: Actor,
    mail: InboundMail,
    *,
    organisation: str,
    title: str | None,
    tlp: str | None,
    note: str | None,
    clock: Clock,
    settings: IntakeSettings,
) -> Incident:
    """Turn a held message into an incident of ``organisation`` (slug) through the intake
    service, with its text, observables and attachments (``Conflict`` when it was handled
    already); status ``incident``."""
    raise NotImplementedError  # helper "services" writes it


def attach_to_incident(
    session: Session,
    actor: Actor,
    mail: InboundMail,
    *,
    reference: str,
    note: str | None,
    clock: Clock,
    settings: IntakeSettings,
) -> Incident:
    """Add a held message to incident ``reference``'s conversation as the reporter's answer,
    with its attachments (``NotFound`` for an unknown reference); status ``reply``."""
    raise NotImplementedError  # helper "services" writes it


def discard(
    session: Session, actor: Actor, mail: InboundMail, *, note: str | None, clock: Clock
) -> None:
    """Discard a held or failed message (kept stored, for the record); status ``discarded``."""
    raise NotImplementedError  # helper "services" writes it
