"""The held-mail queue: what analysts see and decide (Flask-free use cases; CERT staff only).

Each decision is audited and recorded on the message (``handled_by``, ``handled_at``,
``handling_note``): turning a held message into an incident (through the intake service, for an
organisation the analyst names), attaching it to an incident's conversation (as the
reporter's answer, with its attachments), or discarding it. Nothing is ever sent to the sender
of a held message by these actions except the acknowledgement of an incident created for a
known organisation's contact (no backscatter).

Two analysts deciding on the same message at once: every decision first reads the row again
under a lock (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the adapters' unit of work holds
the database's write lock from its first read), so the second one finds it handled and gets a
``Conflict`` instead of a second incident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from core import audit
from core.clock import Clock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationKind
from incidents.access import can_work, sees_all_red, visible
from incidents.actions import IncidentAction
from incidents.intake.service import get_incident
from incidents.mailbox import conversion, parsing, senders, store, threads
from incidents.mailbox.message import ParsedMail
from incidents.mailbox.models import OPEN_STATUSES, HoldReason, InboundMail, MailStatus
from incidents.models import Incident
from incidents.settings import IntakeSettings

log = logging.getLogger(__name__)
PAGE_SIZE = 50
NOTE_MAX = 500  # the column's length


@dataclass(frozen=True)
class MailPage:
    mails: list[InboundMail]
    next_before_id: int | None  # keyset pagination on (status, id) newest first


def _staff(actor: Actor) -> None:
    if not actor.is_cert_staff:
        raise PermissionDenied("the CERT mailbox is for CERT staff")


def list_mails(
    session: Session,
    actor: Actor,
    *,
    statuses: tuple[MailStatus, ...] = (MailStatus.HELD, MailStatus.FAILED),
    reason: HoldReason | None = None,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> MailPage:
    """Messages in ``statuses`` (of hold ``reason`` when given), newest first (index
    ``ix_inbound_mails_status_id``); who decided and the incident loaded with them."""
    _staff(actor)
    query = select(InboundMail).where(*_filters(actor, statuses, reason))
    if before_id is not None:
        query = query.where(InboundMail.id < before_id)
    query = query.options(
        selectinload(InboundMail.handled_by), selectinload(InboundMail.incident)
    ).order_by(InboundMail.id.desc())
    rows = list(session.scalars(query.limit(limit + 1)))
    older = rows[limit - 1].id if len(rows) > limit else None
    return MailPage(rows[:limit], older)


def count_mails(
    session: Session,
    actor: Actor,
    *,
    statuses: tuple[MailStatus, ...],
    reason: HoldReason | None = None,
) -> int:
    """How many messages :func:`list_mails` pages through with the same filters (the API's
    ``total``): the ones the actor may not read are not counted either."""
    _staff(actor)
    query = select(func.count()).select_from(InboundMail).where(*_filters(actor, statuses, reason))
    return session.scalar(query) or 0


def _filters(
    actor: Actor, statuses: tuple[MailStatus, ...], reason: HoldReason | None
) -> list[ColumnElement[bool]]:
    """What a list of messages keeps: its statuses, its hold reason, what the actor may read."""
    found = [InboundMail.status.in_(statuses), _readable(actor)]
    if reason is not None:
        found.append(InboundMail.hold_reason == reason)
    return found


def _readable(actor: Actor) -> ColumnElement[bool]:
    """A message is its incident's content once it became or joined one: whoever may not see a
    ``TLP:RED`` incident (:func:`incidents.access.visible`) does not see its messages either."""
    if sees_all_red(actor):
        return true()
    # correlated: one primary-key probe per row the page reads, not a set of every incident
    seen = select(Incident.id).where(Incident.id == InboundMail.incident_id, visible(actor))
    return or_(InboundMail.incident_id.is_(None), seen.exists())


def count_open(session: Session, actor: Actor) -> int:
    """How many messages wait for an analyst (held or failed): the navigation's badge."""
    _staff(actor)
    query = select(func.count()).where(InboundMail.status.in_(OPEN_STATUSES))
    return session.scalar(query) or 0


def get_mail(session: Session, actor: Actor, mail_id: int) -> InboundMail:
    """One message (``NotFound`` for a missing one, or one of an incident the actor may not
    see; ``PermissionDenied`` for non-staff)."""
    _staff(actor)
    mail = session.scalar(
        select(InboundMail)
        .where(InboundMail.id == mail_id, _readable(actor))
        .options(
            selectinload(InboundMail.handled_by),
            selectinload(InboundMail.incident),
            selectinload(InboundMail.organisation),
        )
    )
    if mail is None:
        raise NotFound(f"no message {mail_id}")
    return mail


def decided(session: Session, actor: Actor, mail: InboundMail) -> InboundMail:
    """The message just decided on, for its decider's answer, whatever the incident's TLP (the
    decider read it before deciding): :func:`get_mail` would hide it behind a ``TLP:RED``
    incident the analyst may not see."""
    _staff(actor)
    found = session.scalar(
        select(InboundMail)
        .where(InboundMail.id == mail.id)
        .options(selectinload(InboundMail.handled_by), selectinload(InboundMail.incident))
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"no message {mail.id}")
    return found


def sees_incident(session: Session, actor: Actor, incident: Incident) -> bool:
    """Whether ``actor`` may open ``incident`` (an analyst making a ``TLP:RED`` one may not)."""
    query = select(Incident.id).where(Incident.id == incident.id, visible(actor))
    return session.scalar(query) is not None


def read_mail(mail: InboundMail, settings: IntakeSettings) -> ParsedMail:
    """The stored message parsed again, for its page (``NotFound`` when the raw file is gone)."""
    raw = store.read_raw(settings.mail.mail_dir, mail.sha256)
    return parsing.parse(raw, max_attachment_bytes=settings.max_upload_bytes)


def raw_bytes(mail: InboundMail, settings: IntakeSettings) -> bytes:
    """The stored raw message (downloaded as ``.eml`` by staff, never shown inline)."""
    return store.read_raw(settings.mail.mail_dir, mail.sha256)


def clean_subject(subject: str | None, prefix: str) -> str:
    """A subject without its reply and forward markers (``RE: TR: …``) nor incident tags: the
    title suggested for an incident made of the message (:func:`.threads.clean_subject`)."""
    return threads.clean_subject(subject or "", prefix)


def sender_organisations(session: Session, address: str | None) -> set[int]:
    """The organisations whose contact or active user ``address`` is (:func:`.senders.identify`):
    only for those may an acknowledgement be sent to it (no backscatter). A CERT account is no
    organisation's sender."""
    sender = senders.identify(session, address)
    found = set(sender.contact_of)
    if sender.user is not None and not sender.staff:
        found.add(sender.user.organisation_id)
    return found


def constituents(session: Session, actor: Actor) -> list[Organisation]:
    """The organisations an incident may be opened for (every one but the CERT), by name."""
    _staff(actor)
    query = select(Organisation).where(Organisation.kind != OrganisationKind.CERT)
    return list(session.scalars(query.order_by(Organisation.name)))


# ---------------------------------------------------------------- the decisions
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
    acknowledge: bool = False,
) -> Incident:
    """Turn a held message into an incident of ``organisation`` (slug) through the intake
    service, with its text, observables and attachments (``Conflict`` when it was handled
    already); status ``incident``. ``acknowledge`` sends the acknowledgement to the sender, which
    must then be a contact of that organisation (``ValidationFailed`` otherwise)."""
    _staff(actor)
    note = _note(note)
    locked = _lock(session, mail, allowed=(MailStatus.HELD,))
    org = _organisation(session, organisation)
    if acknowledge and org.id not in sender_organisations(session, locked.from_address):
        raise ValidationFailed(
            "sender not a contact",
            fields={
                "acknowledge": N_("the sender is not a contact of this organisation: no reply")
            },
        )
    before = locked.status
    incident = conversion.incident_from_mail(
        session,
        actor,
        locked,
        read_mail(locked, settings),
        organisation=org.slug,
        title=(title or "").strip() or None,
        tlp=tlp or None,
        acknowledge=acknowledge,
        clock=clock,
        settings=settings,
    )
    _decided(session, actor, locked, IncidentAction.MAIL_INCIDENT, before, note, clock, incident)
    return incident


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
    with its attachments (``ValidationFailed`` naming ``reference`` for an unknown one); status
    ``reply``. The answer is written in the sender's name, for the incident's organisation: the
    analyst vouches for it, and the audit log says so."""
    _staff(actor)
    note = _note(note)
    wanted = (reference or "").strip().upper()
    if not wanted:
        raise ValidationFailed(
            "reference required", fields={"reference": N_("give the incident's reference")}
        )
    locked = _lock(session, mail, allowed=(MailStatus.HELD,))
    try:
        incident = get_incident(session, actor, wanted)
    except NotFound:
        raise ValidationFailed(
            "unknown incident",
            fields={"reference": N_("no such incident %(reference)s", reference=wanted[:32])},
        ) from None
    if not can_work(actor, incident):  # seen through a read-only share with the actor's centre
        read_only = N_("%(reference)s is shared with your centre read-only", reference=wanted)
        raise ValidationFailed("read-only incident", fields={"reference": read_only})
    before = locked.status
    # the answer is the sender's, vouched for by the analyst (who is audited below): CERT staff
    # never answer as the reporter themselves
    sender = Actor.contact(locked.from_address or "unknown sender", incident.organisation_id)
    try:
        conversion.answer_from_mail(
            session,
            sender,
            incident,
            locked,
            read_mail(locked, settings),
            clock=clock,
            settings=settings,
        )
    except NotFound:
        raise ValidationFailed(
            "incident closed to its organisation",
            fields={"reference": N_("its organisation cannot see %(reference)s", reference=wanted)},
        ) from None
    _decided(session, actor, locked, IncidentAction.MAIL_REPLY, before, note, clock, incident)
    return incident


def discard(
    session: Session, actor: Actor, mail: InboundMail, *, note: str | None, clock: Clock
) -> None:
    """Discard a held or failed message (kept stored, for the record); status ``discarded``."""
    _staff(actor)
    note = _note(note)
    locked = _lock(session, mail, allowed=OPEN_STATUSES)
    before = locked.status
    locked.status = MailStatus.DISCARDED
    _decided(session, actor, locked, IncidentAction.MAIL_DISCARD, before, note, clock, None)


def _note(note: str | None) -> str | None:
    cleaned = (note or "").strip()
    if len(cleaned) > NOTE_MAX:
        raise ValidationFailed(
            "note too long",
            fields={"note": N_("at most %(count)s characters", count=NOTE_MAX)},
        )
    return cleaned or None


def _lock(session: Session, mail: InboundMail, *, allowed: tuple[MailStatus, ...]) -> InboundMail:
    """The message read again under a row lock (PostgreSQL; SQLite: the unit of work's write
    lock), so that a decision taken meanwhile by someone else is seen: ``Conflict`` when it is
    no longer in one of the ``allowed`` statuses."""
    locked = session.scalar(
        select(InboundMail)
        .where(InboundMail.id == mail.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound(f"no message {mail.id}")
    if locked.status not in allowed:
        if locked.status is MailStatus.FAILED:
            raise Conflict(N_("this message failed to be processed: reprocess it first"))
        raise Conflict(
            N_(
                "this message was handled already (%(status)s)",
                status=locked.status.value,
            )
        )
    return locked


def _organisation(session: Session, slug: str | None) -> Organisation:
    wanted = (slug or "").strip().lower()
    if not wanted:
        raise ValidationFailed(
            "organisation required", fields={"organisation": N_("choose the organisation")}
        )
    org = session.scalar(select(Organisation).where(Organisation.slug == wanted))
    if org is None or org.kind is OrganisationKind.CERT:
        raise ValidationFailed(
            "unknown organisation",
            fields={"organisation": N_("no organisation %(slug)s", slug=wanted[:64])},
        )
    return org


def _decided(
    session: Session,
    actor: Actor,
    mail: InboundMail,
    action: IncidentAction,
    before: MailStatus,
    note: str | None,
    clock: Clock,
    incident: Incident | None,
) -> None:
    """Record an analyst's decision on the message and in the audit log."""
    mail.handled_by_id = actor.user_id
    mail.handled_at = clock.now()
    mail.handling_note = note
    if incident is not None:
        mail.incident_id = incident.id
    session.flush()
    audit.record(
        session,
        actor,
        action,
        "inbound_mail",
        mail.id,
        clock=clock,
        before={"status": before.value},
        after={
            "status": mail.status.value,
            "incident": incident.reference if incident is not None else None,
            "note": note,
        },
    )
