"""Receiving a message: store it first, then decide what it is (Flask-free use cases).

Both ways in call :func:`receive`: the scheduler's mailbox job (:mod:`.jobs`) and
``cert mail receive`` (:mod:`.cli`). It runs in the caller's unit of work as several
transactions: (1) the raw bytes are written under their SHA-256 (:mod:`.store`) and the
:class:`~incidents.mailbox.models.InboundMail` row committed; (2) the message is processed
(:func:`incidents.mailbox.processing.process`) and committed; (3) when (2) raises, the row is
marked ``failed`` with the error, committed, and the raw message stays for
``cert mail reprocess`` (:func:`reprocess`). The same bytes received again are the same row: a
message already processed is not processed again (the IMAP job may read a message twice when it
stopped between storing and moving it); one still ``received`` (a run interrupted between (1)
and (2)) is processed then.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound, describe
from core.identity.authz import Actor
from core.uow import UnitOfWork
from incidents.actions import IncidentAction
from incidents.mailbox.models import InboundMail, MailSource, MailStatus
from incidents.mailbox.processing import ROBOT, process
from incidents.mailbox.store import read_raw, store_raw
from incidents.models import Incident
from incidents.settings import IntakeSettings

log = logging.getLogger(__name__)

REPROCESSABLE = (MailStatus.FAILED, MailStatus.RECEIVED)
BATCH = 100  # messages read per query by :func:`reprocess` (every failed one)


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
    message's content (a failure is recorded as ``failed``) — except for empty input, which is
    not a message (``ValidationFailed``) and one beyond
    :data:`~incidents.mailbox.store.HARD_CEILING_BYTES` (``TooLarge``). A database or disk
    failure before the row is committed raises: nothing is kept, the sender must retry."""
    mail_id, status, new = _store(uow, raw, source=source, settings=settings)
    if status is not MailStatus.RECEIVED:
        with uow.transaction(write=False) as session:
            return _result(session, _get(session, mail_id), new=False)
    return _process(uow, mail_id, raw, settings=settings, new=new)


def _store(
    uow: UnitOfWork, raw: bytes, *, source: MailSource, settings: IntakeSettings
) -> tuple[int, MailStatus, bool]:
    """Transaction (1): the raw bytes on disk, then the row committed (id, status, new)."""
    stored = store_raw(raw, settings.mail.mail_dir)
    try:
        with uow.transaction() as session:
            existing = _by_sha256(session, stored.sha256)
            if existing is not None:
                return existing.id, existing.status, False
            mail = InboundMail(
                sha256=stored.sha256,
                size=stored.size,
                source=source,
                received_at=uow.clock.now(),
                status=MailStatus.RECEIVED,
                attempts=0,
            )
            session.add(mail)
            session.flush()
            audit.record(
                session, ROBOT, IncidentAction.MAIL_RECEIVE, "inbound_mail", mail.id,
                clock=uow.clock, after={"sha256": stored.sha256, "size": stored.size,
                                        "source": source.value},
            )  # fmt: skip
            return mail.id, mail.status, True
    except IntegrityError:  # the same bytes stored by another run at the same moment
        with uow.transaction(write=False) as session:
            twin = _by_sha256(session, stored.sha256)
            if twin is None:
                raise
            return twin.id, twin.status, False


def _by_sha256(session: Session, sha256: str) -> InboundMail | None:
    return session.scalar(select(InboundMail).where(InboundMail.sha256 == sha256))


def _process(
    uow: UnitOfWork,
    mail_id: int,
    raw: bytes,
    *,
    settings: IntakeSettings,
    new: bool,
    actor: Actor | None = None,
) -> Received:
    """Transactions (2), or (3) when (2) raises. ``actor``: who asked for it again (audited
    as ``mail.reprocess``)."""
    try:
        with uow.transaction() as session:
            mail = _get(session, mail_id, lock=True)
            if mail.status not in REPROCESSABLE:  # another run handled it meanwhile
                return _result(session, mail, new=new)
            if actor is not None:
                audit.record(
                    session, actor, IncidentAction.MAIL_REPROCESS, "inbound_mail", mail.id,
                    clock=uow.clock, before={"status": mail.status.value, "error": mail.error},
                )  # fmt: skip
            mail.attempts += 1
            mail.error = None
            process(session, mail, raw, clock=uow.clock, settings=settings)
            return _result(session, mail, new=new)
    except Exception as exc:  # any failure: the message is kept, marked failed
        log.exception("processing inbound mail %s failed", mail_id)
        # the intake INSERTs rows with Core and keeps their objects: the rollback took the rows
        # away, not the objects, which a second attempt would find in its way
        uow.session.expunge_all()
        error = describe(exc)
        return _failed(uow, mail_id, error, new=new, actor=actor)


def _failed(
    uow: UnitOfWork, mail_id: int, error: str, *, new: bool, actor: Actor | None = None
) -> Received:
    """Transaction (3): the row marked ``failed`` (and the ``mail.reprocess`` of ``actor`` that
    led to it, rolled back with the attempt, recorded again); when even that fails (the database
    went away), the row stays ``received`` for ``cert mail reprocess``."""
    try:
        with uow.transaction() as session:
            mail = _get(session, mail_id, lock=True)
            if actor is not None:
                audit.record(
                    session, actor, IncidentAction.MAIL_REPROCESS, "inbound_mail", mail.id,
                    clock=uow.clock, before={"status": mail.status.value, "error": mail.error},
                    after={"status": MailStatus.FAILED.value, "error": error},
                )  # fmt: skip
            mail.status = MailStatus.FAILED
            mail.error = error
            mail.attempts += 1
            mail.processed_at = uow.clock.now()
            return _result(session, mail, new=new)
    except Exception:  # stored already: reprocessed later
        log.exception("marking inbound mail %s failed did not work either", mail_id)
        return Received(mail_id, MailStatus.RECEIVED, new, error=error)


def _get(session: Session, mail_id: int, *, lock: bool = False) -> InboundMail:
    mail = session.get(InboundMail, mail_id, with_for_update=lock, populate_existing=True)
    if mail is None:
        raise NotFound(f"no message {mail_id}")
    return mail


def _result(session: Session, mail: InboundMail, *, new: bool) -> Received:
    incident = session.get(Incident, mail.incident_id) if mail.incident_id else None
    return Received(
        mail.id,
        mail.status,
        new,
        incident_reference=incident.reference if incident is not None else None,
        hold_reason=mail.hold_reason.value if mail.hold_reason is not None else None,
        error=mail.error,
    )


def reprocess(
    uow: UnitOfWork, mail_ids: Sequence[int] | None, *, settings: IntakeSettings
) -> list[Received]:
    """Process again the given messages (``None``: every ``failed`` and ``received`` one), from
    their stored raw bytes; audited as ``mail.reprocess``. Only ``failed`` and ``received``
    messages are taken (a handled one is left as it is). ``NotFound`` for an unknown id (before
    anything is done); a message whose stored file is gone is marked ``failed`` saying so."""
    actor = uow.actor or ROBOT
    statuses = select(InboundMail.id, InboundMail.status).order_by(InboundMail.id)
    if mail_ids is not None:
        wanted = list(dict.fromkeys(mail_ids))
        with uow.transaction(write=False) as session:
            found = dict(session.execute(statuses.where(InboundMail.id.in_(wanted))).all())
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise NotFound(f"no message {', '.join(missing)}")
        return [_again(uow, i, actor, settings) for i in wanted if found[i] in REPROCESSABLE]
    done: list[Received] = []
    after = 0
    pending = statuses.where(InboundMail.status.in_(REPROCESSABLE)).limit(BATCH)
    while True:
        with uow.transaction(write=False) as session:
            batch = list(session.scalars(pending.where(InboundMail.id > after)))
        if not batch:
            return done
        done.extend(_again(uow, i, actor, settings) for i in batch)
        after = batch[-1]


def _again(uow: UnitOfWork, mail_id: int, actor: Actor, settings: IntakeSettings) -> Received:
    with uow.transaction(write=False) as session:
        sha256 = _get(session, mail_id).sha256
    try:
        raw = read_raw(settings.mail.mail_dir, sha256)
    except NotFound as exc:
        return _failed(uow, mail_id, exc.message, new=False, actor=actor)
    return _process(uow, mail_id, raw, settings=settings, new=False, actor=actor)


__all__ = ["Received", "receive", "reprocess"]
