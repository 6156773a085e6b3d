"""A received message becomes an incident or part of one (Flask-free use cases, flush only).

Used by the automatic decisions (:mod:`.processing`) and by the analysts' decisions on held
messages (:mod:`.held`), so that both create the same incident and the same conversation entry.

The message's text is plain text, not Markdown: a new incident keeps it as its description (shown
as written, line breaks kept, escaped); an answer is stored through
:func:`incidents.rules.richtext.plain`. Its files follow the rules of the report form
(:func:`incidents.intake.attachments.add_attachment`: ``CERT_MAX_UPLOAD_MB``, the type sniffed,
text mined for observables); a file beyond the limit is never stored, only noted on the timeline
(``attachment_refused``, internal; an empty one is left out). A forwarded message is kept whole
as a ``.eml`` file and its text mined for observables.
"""

from __future__ import annotations

import io

from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.inputs import field_errors, show_bidi
from core.mail import answerable
from core.markings import DEFAULT_TLP
from incidents.access import can_see
from incidents.intake.attachments import TooLarge, add_attachment, safe_filename
from incidents.intake.schemas import Contact, IncidentSubmission
from incidents.intake.service import add_event, add_observables, submit_incident
from incidents.mailbox import threads
from incidents.mailbox.message import MailPart, ParsedMail
from incidents.mailbox.models import InboundMail, MailStatus
from incidents.models import Attachment, Incident, IncidentEvent
from incidents.observables.extraction import extract
from incidents.settings import IntakeSettings
from incidents.workspace.answer_files import link_to_answer
from incidents.workspace.conversation import MAX_BODY, reporter_answer

# what the incident says when the message does not (French: the CERT's working language)
DEFAULT_TITLE = "Signalement reçu par courriel"
NO_TEXT = "(Message reçu sans texte : voir les pièces jointes.)"
MAX_TITLE = 300  # IncidentSubmission.title
MAX_DESCRIPTION = 50_000  # IncidentSubmission.description
CUT = "\n[…]"
FORWARDED_NAME = "message-transfere.eml"
MAILBOX = Actor.system("system:mailbox")  # the robot, in the audit log and on the timeline


def has_content(parsed: ParsedMail, text: str | None = None) -> bool:
    """Something to read: a text (``text``, else the message's), or a file."""
    return bool((parsed.text if text is None else text).strip()) or bool(parsed.attachments)


def incident_from_mail(
    session: Session,
    actor: Actor,
    mail: InboundMail,
    parsed: ParsedMail,
    *,
    organisation: str | None,
    title: str | None,
    tlp: str | None,
    acknowledge: bool,
    clock: Clock,
    settings: IntakeSettings,
) -> Incident:
    """A new incident through :func:`incidents.intake.service.submit_incident`: the subject
    (cleaned) as title unless ``title``; the text as description; classification left for triage
    (RSIT ``other``/``undetermined``); ``tlp`` or TLP:AMBER; the message's attachments and
    forwarded messages attached (their text mined for observables). ``organisation`` is a slug
    (when ``actor`` is CERT staff; a sender acting for itself reports for its own). With
    ``acknowledge`` the acknowledgement goes to the sender, in reply to the message (its
    Message-ID), so that the next answer threads; without it nothing is sent to anyone.
    Sets ``mail.status``/``incident_id``. ``ValidationFailed`` (field ``mail``) for a message
    with neither text nor file."""
    if not has_content(parsed):
        raise ValidationFailed("no content", fields={"mail": N_("the message has no text")})
    data = _submission(parsed, organisation=organisation, title=title, tlp=tlp, settings=settings)
    incident = submit_incident(
        session,
        actor,
        data,
        clock=clock,
        settings=settings,
        in_reply_to=answerable(parsed.message_id) if acknowledge else None,
        acknowledge=acknowledge,
    )
    _attach(session, actor, incident, parsed, clock=clock, settings=settings)
    _mark(mail, MailStatus.INCIDENT, incident, clock=clock)
    return incident


def answer_from_mail(
    session: Session,
    actor: Actor,
    incident: Incident,
    mail: InboundMail,
    parsed: ParsedMail,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> IncidentEvent:
    """The message added to ``incident``'s conversation as the reporter's answer (its new text,
    quoted history left out; its attachments), which notifies the assignee. Sets
    ``mail.status``/``incident_id``. ``actor`` must be of the incident's organisation (the
    conversation's rule: ``NotFound`` otherwise); ``ValidationFailed`` (field ``mail``) for a
    message with neither new text nor file."""
    text = threads.new_text(parsed.text).strip()
    if not has_content(parsed, text):
        raise ValidationFailed("no content", fields={"mail": N_("the message has no text")})
    body = _cut(text, MAX_BODY) if text else NO_TEXT
    event = reporter_answer(session, actor, incident, body, clock=clock, plain=True, via="email")
    sent = _attach(session, actor, incident, parsed, clock=clock, settings=settings)
    link_to_answer(session, event, sent)
    _mark(mail, MailStatus.REPLY, incident, clock=clock)
    return event


def _submission(
    parsed: ParsedMail,
    *,
    organisation: str | None,
    title: str | None,
    tlp: str | None,
    settings: IntakeSettings,
) -> IncidentSubmission:
    subject = (
        title
        if title is not None
        else threads.clean_subject(parsed.subject, settings.reference_prefix)
    )
    shown = show_bidi(" ".join(subject.split()))
    values = {
        "title": _cut(shown, MAX_TITLE, "…") if len(shown) >= 3 else DEFAULT_TITLE,
        "description": _cut(parsed.text.strip(), MAX_DESCRIPTION) or NO_TEXT,
        "category": "other",
        "type": "undetermined",
        "tlp": tlp or DEFAULT_TLP.value,
        "contact": _contact(parsed),
        "organisation": organisation,
    }
    try:
        return IncidentSubmission.model_validate(values)
    except ValidationError as exc:
        fields = field_errors(exc.errors(include_url=False), "mail")
        raise ValidationFailed("invalid incident", fields=fields) from None


def _contact(parsed: ParsedMail) -> Contact | None:
    """The sender's name and address (the address left out when it is not one the form would
    take: the acknowledgement then goes to the reporting account only)."""
    name = (parsed.from_name or "").strip()[:200] or None
    try:
        return Contact(name=name, email=parsed.from_address)
    except ValidationError:
        return Contact(name=name) if name else None


def _cut(text: str, limit: int, mark: str = CUT) -> str:
    return text if len(text) <= limit else text[: limit - len(mark)].rstrip() + mark


def _attach(
    session: Session,
    actor: Actor,
    incident: Incident,
    parsed: ParsedMail,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> list[Attachment]:
    """Store the message's files on ``incident`` (see the module docstring); those stored. The
    sender (or the analyst) attaches them when it may see the incident; else (an analyst
    opening a TLP:RED incident not assigned to them) the mailbox does."""
    actor = actor if can_see(actor, incident) else MAILBOX
    stored: list[Attachment] = []
    for part in parsed.attachments:
        name = _name(part)
        if part.too_large:
            _refused(session, actor, incident, name, clock=clock, settings=settings)
            continue
        if not part.content:  # an empty file carries nothing
            continue
        try:
            attachment = add_attachment(
                session, actor, incident, filename=name, stream=io.BytesIO(part.content),
                clock=clock, upload_dir=settings.upload_dir, max_bytes=settings.max_upload_bytes,
            )  # fmt: skip
        except TooLarge:  # checked before anything is written
            _refused(session, actor, incident, name, clock=clock, settings=settings)
            continue
        stored.append(attachment)
        if part.forwarded and part.text:
            found = [(o, f"attachment:{attachment.filename}") for o in extract(part.text)]
            add_observables(session, incident, found, clock=clock)
    return stored


def _name(part: MailPart) -> str:
    if not part.forwarded:
        return safe_filename(part.filename)
    name = safe_filename(part.filename, default=FORWARDED_NAME)
    return name if name.lower().endswith(".eml") else f"{name}.eml"


def _refused(
    session: Session,
    actor: Actor,
    incident: Incident,
    name: str,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> None:
    """An internal line on the timeline: a file of the message beyond the limit, not kept."""
    data = {"filename": name, "limit": settings.max_upload_bytes, "text": name}
    add_event(session, incident, actor, "attachment_refused", clock=clock, data=data)


def _mark(mail: InboundMail, status: MailStatus, incident: Incident, *, clock: Clock) -> None:
    mail.status = status
    mail.incident_id = incident.id
    mail.organisation_id = incident.organisation_id
    mail.processed_at = clock.now()


__all__ = ["DEFAULT_TITLE", "answer_from_mail", "has_content", "incident_from_mail"]
