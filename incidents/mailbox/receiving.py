"""Receiving a message: store it first, then decide what it is (Flask-free use cases).

Both ways in call :func:`receive`: the scheduler's mailbox job (:mod:`.jobs`) and
``cert mail receive`` (:mod:`.cli`). It runs in the caller's unit of work as several
transactions: (1) the raw bytes are written under their SHA-256 (:mod:`.store`) and the
:class:`~incidents.mailbox.models.InboundMail` row committed; (2) the message is processed
(:func:`incidents.mailbox.processing.process`) and committed; (3) when (2) raises, the row is
marked ``failed`` with the error, committed, and the raw message stays for
``cert mail reprocess`` (:func:`reprocess`). The same bytes received again are the same row: a
message already processed is not processed again (the IMAP job may read a message twice when it
stopped between storing and moving it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.uow import UnitOfWork
from incidents.mailbox.models import MailSource, MailStatus
from incidents.settings import IntakeSettings


@dataclass(frozen=True)
class Received:
    mail_id: int
    status: MailStatus
    new: bool  # False: these bytes were received before (same SHA-256)
    incident_reference: str | None = None
    hold_reason: str | None = None
    error: str | None = None  # processing failed (status ``failed``)


def receive(
    uow: UnitOfWork, raw: bytes, *, source: MailSource, settings: IntakeSettings
) -> Received:
    """Store ``raw`` and process it (see the module docstring); never raises because of the
    message's content (a failure is recorded as ``failed``)."""
    raise NotImplementedError  # helper "services" writes it


def reprocess(
    uow: UnitOfWork, mail_ids: Sequence[int] | None, *, settings: IntakeSettings
) -> list[Received]:
    """Process again the given messages (``None``: every ``failed`` and ``received`` one), from
    their stored raw bytes; audited as ``mail.reprocess``. Only ``failed`` and ``received``
    messages are taken (a handled one is left as it is)."""
    raise NotImplementedError  # helper "services" writes it
