"""E-mails of the correspondence with the reporter (a reply of the CERT, the closing message, a
status change), queued in the outbox inside the business transaction, in the recipient's
language."""

from __future__ import annotations

import html
from dataclasses import dataclass

import nh3
from markupsafe import Markup
from sqlalchemy.orm import Session

from core.clock import Clock
from core.i18n import normalise_locale, render_mail
from core.mail import enqueue_mail
from core.outbox import OutboxMessage
from incidents.intake.acknowledgement import category_label
from incidents.intake.service import reporter_of
from incidents.models import Incident
from incidents.rules import labels
from incidents.settings import IntakeSettings


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    locale: str


def recipient_of(session: Session, incident: Incident) -> Recipient | None:
    """The reporting user (their address and language), else the contact address given."""
    reporter = reporter_of(session, incident)
    if reporter is not None and not reporter.is_cert_staff and reporter.is_active:
        return Recipient(reporter.email, reporter.name, normalise_locale(reporter.locale))
    if incident.contact_email:
        return Recipient(incident.contact_email, incident.contact_name or "", "fr")
    return None


def plain_text(body_html: str) -> str:
    """Sanitised HTML → the text part of an e-mail (tags dropped, entities decoded)."""
    text = nh3.clean(body_html.replace("</p>", "</p>\n\n").replace("<br>", "\n"), tags=set())
    return html.unescape(text).strip()


def _send(
    session: Session,
    incident: Incident,
    template: str,
    recipient: Recipient,
    *,
    settings: IntakeSettings,
    clock: Clock,
    **context: object,
) -> OutboxMessage:
    subject, text, body = render_mail(
        "incidents",
        f"incidents/email/{template}",
        recipient.locale,
        incident=incident,
        recipient_name=recipient.name,
        category_label=category_label(incident, recipient.locale),
        track_url=f"{settings.base_url}/track/{incident.reference}",
        **context,
    )
    return enqueue_mail(
        session,
        to=recipient.address,
        subject=subject,
        text=text,
        html=body,
        language=recipient.locale,
        tlp=incident.tlp,
        related=("incident", incident.reference),
        clock=clock,
        mail_domain=settings.mail_domain,
    )


def queue_reply(
    session: Session,
    incident: Incident,
    body_html: str,
    recipient: Recipient,
    *,
    settings: IntakeSettings,
    clock: Clock,
    text: str | None = None,
) -> OutboxMessage:
    """A message of the CERT to the reporter (``body_html`` already sanitised; ``text``, the
    Markdown as written, is the plain-text part — else the HTML's text)."""
    return _send(
        session,
        incident,
        "reply",
        recipient,
        settings=settings,
        clock=clock,
        body_html=Markup(body_html),  # noqa: S704 - sanitised by conversation.sanitise
        body_text=text if text is not None else plain_text(body_html),
    )


def queue_closing(
    session: Session,
    incident: Incident,
    recipient: Recipient,
    *,
    settings: IntakeSettings,
    clock: Clock,
) -> OutboxMessage:
    """The closing message: the incident is closed; the reporter may still answer."""
    return _send(session, incident, "closing", recipient, settings=settings, clock=clock)


def queue_status_change(
    session: Session,
    incident: Incident,
    recipient: Recipient,
    *,
    settings: IntakeSettings,
    clock: Clock,
    resolution: str | None = None,
    merged_into: str | None = None,
    reason: str | None = None,
) -> OutboxMessage:
    """The status of the report changed (any move but closing, which has its own message): the
    new status and what it means, the resolution summary once resolved, the CERT's public
    reason of a rejection or a duplicate, and — for a report merged into (or a duplicate of)
    another one of the same organisation — that one's reference."""
    return _send(
        session,
        incident,
        "status_changed",
        recipient,
        settings=settings,
        clock=clock,
        status_label=labels.STATUSES.get(incident.status, incident.status),
        status_help=labels.STATUS_HELP.get(incident.status, ""),
        resolution=resolution,
        merged_into=merged_into,
        reason=reason,
    )
