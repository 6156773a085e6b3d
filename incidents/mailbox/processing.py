"""What a stored message is, decided by rules in a fixed order (Flask-free use case, flush only).

:func:`process` reads the stored message and applies, in this order — the first that decides
ends it, and each outcome is stored on the row (``status``, ``hold_reason``, ``hold_detail``,
``organisation_id``, ``incident_id``, ``processed_at``) and audited (``mail.*``):

1. larger than ``CERT_MAIL_MAX_MB`` → held ``too_large``, not even parsed;
2. parsed (:func:`.parsing.parse`; an exception is the caller's: the row becomes ``failed``);
3. the trusted ``Authentication-Results`` recorded; DMARC ``fail`` → held ``dmarc_fail``, even
   for a known sender; ``CERT_MAIL_REQUIRE_AUTH`` without a pass → held ``unauthenticated``;
4. Vigie's own mail come back (its address, or one of its Message-IDs) → held ``loop``; a robot
   (bounce, auto-reply, bulk) → held ``bounce``/``auto_reply``;
5. the same Message-ID from the same sender handled before → ``duplicate``;
6. the sender (:mod:`.senders`): a CERT account → held ``staff_sender``;
7. a thread (``In-Reply-To``/``References`` naming a message Vigie sent about an incident, else
   a reference in the subject): an unknown reference → held ``unknown_reference``, a merged
   incident → held ``merged``, a sender not of the incident's organisation → held
   ``other_organisation`` (``unknown_sender`` when nobody knows it) — never added; else the
   reporter's answer (:func:`.conversion.answer_from_mail`) → ``reply``;
8. no thread: a known sender → a new incident, acknowledged in reply to the message → ``incident``
   (nothing to read → held ``no_content``); a contact of several organisations → held
   ``ambiguous_sender``; anyone else → held ``unknown_sender``.

Nothing is ever sent to a held message's sender, a robot or an unknown address (no backscatter):
the only mail this module causes is the acknowledgement of step 8, to a known sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.outbox import OutboxMessage
from incidents.access import RED
from incidents.actions import IncidentAction
from incidents.mailbox import authresults, conversion, threads
from incidents.mailbox.message import Automatic, ParsedMail
from incidents.mailbox.models import HoldReason, InboundMail, MailStatus
from incidents.mailbox.parsing import parse
from incidents.mailbox.senders import Sender, acting_for, identify
from incidents.models import Incident, IncidentStatus
from incidents.settings import IntakeSettings

ROBOT = conversion.MAILBOX  # the automatic decisions, in the audit log
UNPROVEN = (HoldReason.DMARC_FAIL, HoldReason.UNAUTHENTICATED, HoldReason.TOO_LARGE)


@dataclass(frozen=True)
class Thread:
    """The incident a message answers, as the message names it."""

    reference: str
    incident: Incident | None  # None: no such incident
    by_message_id: bool  # found through In-Reply-To/References (else the subject)


def process(
    session: Session, mail: InboundMail, raw: bytes, *, clock: Clock, settings: IntakeSettings
) -> None:
    """Decide what ``mail`` (whose stored bytes are ``raw``) is: see the module docstring."""
    if mail.size > settings.mail.max_bytes:
        limit = settings.mail.max_bytes // (1024 * 1024)
        _hold(session, mail, HoldReason.TOO_LARGE, f"{mail.size} bytes > {limit} MB", clock=clock)
        return
    parsed = parse(raw, max_attachment_bytes=settings.max_upload_bytes)
    _record_headers(mail, parsed)
    if _suspicious(session, mail, parsed, clock=clock, settings=settings):
        return
    if _duplicate(session, mail, parsed, clock=clock):
        return
    sender = identify(session, parsed.from_address)
    mail.organisation_id = sender.organisation_id
    if sender.staff:
        _hold(session, mail, HoldReason.STAFF_SENDER, parsed.from_address, clock=clock)
        return
    thread = find_thread(session, parsed, settings.reference_prefix)
    if thread is not None:
        _answer(session, mail, parsed, sender, thread, clock=clock, settings=settings)
    else:
        _new_report(session, mail, parsed, sender, clock=clock, settings=settings)


def _record_headers(mail: InboundMail, parsed: ParsedMail) -> None:
    mail.message_id = _fit(parsed.message_id, 255)
    mail.from_address = _fit(parsed.from_address, 254)
    mail.from_name = _fit(parsed.from_name, 200)
    mail.subject = _fit(parsed.subject, 500)
    mail.sent_at = parsed.sent_at


def _fit(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def _suspicious(
    session: Session,
    mail: InboundMail,
    parsed: ParsedMail,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> bool:
    """Rules 3 and 4: authentication, loops and robots (held when True)."""
    verdicts = authresults.trusted_verdicts(
        parsed.authentication_results, settings.mail.trusted_authserv_id
    )
    mail.authentication = verdicts.as_json() if verdicts is not None else None
    reason: HoldReason | None = None
    detail: str | None = None
    if verdicts is not None and verdicts.dmarc_failed:
        reason, detail = HoldReason.DMARC_FAIL, verdicts.header
    elif settings.mail.require_auth and (verdicts is None or not verdicts.authenticated):
        reason = HoldReason.UNAUTHENTICATED
        detail = verdicts.header if verdicts is not None else "no trusted Authentication-Results"
    elif _ours(session, parsed, settings):
        reason, detail = HoldReason.LOOP, parsed.message_id or parsed.from_address
    elif parsed.automatic is not None:
        reason = (
            HoldReason.BOUNCE if parsed.automatic is Automatic.BOUNCE else HoldReason.AUTO_REPLY
        )
        detail = parsed.automatic_detail or parsed.automatic.value
    if reason is None:
        return False
    _hold(session, mail, reason, detail, clock=clock)
    return True


def _ours(session: Session, parsed: ParsedMail, settings: IntakeSettings) -> bool:
    """Vigie's own mail come back: from its address, or bearing one of its Message-IDs."""
    if parsed.from_address and parsed.from_address == settings.mail.own_address:
        return True
    if not parsed.message_id:
        return False
    found = select(OutboxMessage.id).where(OutboxMessage.message_id == parsed.message_id)
    return session.scalar(found.limit(1)) is not None


def _duplicate(session: Session, mail: InboundMail, parsed: ParsedMail, *, clock: Clock) -> bool:
    """Rule 5: the same Message-ID from the same sender handled before (another copy) — not
    one held because its sender was not proven (:data:`UNPROVEN`): anyone may forge a
    Message-ID."""
    if not mail.message_id:
        return False
    earlier = session.scalar(
        select(InboundMail.id)
        .where(
            InboundMail.message_id == mail.message_id,
            InboundMail.from_address.is_(None)
            if mail.from_address is None
            else InboundMail.from_address == mail.from_address,
            InboundMail.id != mail.id,
            InboundMail.status.not_in((MailStatus.RECEIVED, MailStatus.FAILED)),
            # a forged copy held first must not make the genuine one a duplicate
            or_(InboundMail.hold_reason.is_(None), InboundMail.hold_reason.not_in(UNPROVEN)),
        )
        .order_by(InboundMail.id)
        .limit(1)
    )
    if earlier is None:
        return False
    mail.status = MailStatus.DUPLICATE
    mail.duplicate_of_id = earlier
    mail.processed_at = clock.now()
    _audit(session, mail, IncidentAction.MAIL_DISCARD, clock=clock, duplicate_of=earlier)
    return True


def find_thread(session: Session, parsed: ParsedMail, prefix: str) -> Thread | None:
    """The incident ``parsed`` answers: a message Vigie sent about an incident named by
    ``In-Reply-To`` or ``References`` (the most recent first), else the first reference of the
    subject; None when it names neither."""
    answered = [*parsed.in_reply_to, *reversed(parsed.references)]
    reference: str | None = None
    if answered:
        ours = select(OutboxMessage.message_id, OutboxMessage.related_id).where(
            OutboxMessage.message_id.in_(answered[:100]),
            OutboxMessage.related_type == "incident",
        )
        related: dict[str, str | None] = dict(session.execute(ours).all())
        reference = next((related[m] for m in answered if related.get(m)), None)
    by_message_id = reference is not None
    if reference is None:
        reference = next(iter(threads.references_in(parsed.subject, prefix)), None)
    if reference is None:
        return None
    incident = session.scalar(select(Incident).where(Incident.reference == reference.upper()))
    return Thread(reference.upper(), incident, by_message_id)


def _answer(
    session: Session,
    mail: InboundMail,
    parsed: ParsedMail,
    sender: Sender,
    thread: Thread,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> None:
    """Rule 7: a reply lands in the conversation only from the incident's organisation."""
    incident = thread.incident
    if incident is None:
        _hold(session, mail, HoldReason.UNKNOWN_REFERENCE, thread.reference, clock=clock)
        return
    detail = _thread_detail(thread, incident)
    if incident.status == IncidentStatus.DUPLICATE:
        _hold(session, mail, HoldReason.MERGED, detail, clock=clock)
        return
    actor = acting_for(sender, incident)
    if actor is None:
        reason = HoldReason.OTHER_ORGANISATION if sender.known else HoldReason.UNKNOWN_SENDER
        _hold(session, mail, reason, detail, clock=clock)
        return
    if not conversion.has_content(parsed, threads.new_text(parsed.text)):
        _hold(session, mail, HoldReason.NO_CONTENT, detail, clock=clock)
        return
    conversion.answer_from_mail(
        session, actor, incident, mail, parsed, clock=clock, settings=settings
    )
    _audit(session, mail, IncidentAction.MAIL_REPLY, clock=clock, incident=incident.reference)


def _thread_detail(thread: Thread, incident: Incident) -> str:
    """What the held-mail queue says of the thread: the reference, unless it came only from a
    Message-ID of ours and the incident is TLP:RED (the sender did not write it; an analyst who
    may not see the incident must not learn it from here)."""
    if thread.by_message_id and incident.tlp == RED:
        return "in reply to a message of the CERT (TLP:RED incident)"
    return thread.reference


def _new_report(
    session: Session,
    mail: InboundMail,
    parsed: ParsedMail,
    sender: Sender,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> None:
    """Rule 8: a new report from a known sender, acknowledged; anyone else is held."""
    actor = sender.actor()
    if actor is None:
        ambiguous = sender.ambiguous
        reason = HoldReason.AMBIGUOUS_SENDER if ambiguous else HoldReason.UNKNOWN_SENDER
        _hold(session, mail, reason, parsed.from_address, clock=clock)
        return
    if not conversion.has_content(parsed):
        _hold(session, mail, HoldReason.NO_CONTENT, parsed.from_address, clock=clock)
        return
    incident = conversion.incident_from_mail(
        session, actor, mail, parsed, organisation=None, title=None, tlp=None,
        acknowledge=True, clock=clock, settings=settings,
    )  # fmt: skip
    _audit(session, mail, IncidentAction.MAIL_INCIDENT, clock=clock, incident=incident.reference)


def _hold(
    session: Session, mail: InboundMail, reason: HoldReason, detail: str | None, *, clock: Clock
) -> None:
    mail.status = MailStatus.HELD
    mail.hold_reason = reason
    mail.hold_detail = _fit(detail, 500)
    mail.processed_at = clock.now()
    _audit(session, mail, IncidentAction.MAIL_HOLD, clock=clock, reason=reason.value)


def _audit(
    session: Session,
    mail: InboundMail,
    action: IncidentAction,
    *,
    clock: Clock,
    **after: object,
) -> None:
    session.flush()
    values = {"status": mail.status.value, "from": mail.from_address, **after}
    audit.record(session, ROBOT, action, "inbound_mail", mail.id, clock=clock, after=values)


__all__ = ["ROBOT", "Thread", "find_thread", "process"]
