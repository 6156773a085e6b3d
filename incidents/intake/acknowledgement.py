"""E-mails about incidents, queued in the outbox inside the business transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import Clock
from core.i18n import normalise_locale, translations
from core.mail import insert_template_mail
from incidents.models import Incident
from incidents.rules.taxonomy import rsit_classes

ACKNOWLEDGEMENT = "incidents:incidents/email/acknowledgement"


def classification_names(category: str, rsit_type: str | None) -> list[str]:
    """The English names of an RSIT class and type (the catalogues' message ids)."""
    rsit = rsit_classes()[category]
    names = [rsit.name]
    if rsit_type and (found := rsit.type(rsit_type)):
        names.append(found.name)
    return names


def category_label(incident: Incident, locale: str) -> str:
    gettext = translations(locale).gettext
    names = classification_names(incident.category, incident.type)
    return " / ".join(gettext(name) for name in names)


def queue_acknowledgement(
    session: Session,
    incident: Incident,
    *,
    to: str,
    name: str,
    locale: str,
    base_url: str,
    mail_domain: str,
    timezone: str,
    clock: Clock,
    in_reply_to: str | None = None,
) -> int:
    """Queue the acknowledgement of a new report (reference, summary, TLP and the tracking
    link) in the outbox; returns the message's id.

    Queued as its template and context: the sender renders it in the recipient's language when
    it first claims it (intake is a hot path; the content is the same as rendering it now).
    ``in_reply_to``: the Message-ID of the report received by e-mail that this answers.
    """
    context = {
        "incident": {
            "reference": incident.reference,
            "title": incident.title,
            "priority": incident.priority,
            "tlp": incident.tlp,
            "pap": incident.pap,
        },
        "recipient_name": name,
        "classification": classification_names(incident.category, incident.type),
        "acknowledge_by": incident.ack_due_at.isoformat(),
        "timezone": timezone,
        "track_url": f"{base_url}/track/{incident.reference}",
    }
    return insert_template_mail(
        session,
        to=to,
        template=ACKNOWLEDGEMENT,
        context=context,
        language=normalise_locale(locale),
        tlp=incident.tlp,
        related=("incident", incident.reference),
        in_reply_to=in_reply_to,
        clock=clock,
        mail_domain=mail_domain,
    )
