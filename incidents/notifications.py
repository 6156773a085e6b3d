"""E-mails about incidents, queued in the outbox inside the business transaction."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy.orm import Session

from cert.clock import Clock
from cert.i18n import normalise_locale, render_mail, translations
from cert.mail import insert_mail
from incidents.models import Incident
from incidents.taxonomy import rsit_classes


def local_datetime(value: dt.datetime, locale: str, timezone: str) -> str:
    return format_datetime(value, "medium", tzinfo=ZoneInfo(timezone), locale=locale)


def category_label(incident: Incident, locale: str) -> str:
    gettext = translations(locale).gettext
    rsit = rsit_classes()[incident.category]
    label = gettext(rsit.name)
    if incident.type and (rsit_type := rsit.type(incident.type)):
        label += f" / {gettext(rsit_type.name)}"
    return label


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
) -> int:
    """Queue the acknowledgement of a new report (reference, summary, TLP and the tracking
    link) in the outbox; returns the message's id."""
    locale = normalise_locale(locale)
    subject, text, html = render_mail(
        "incidents",
        "incidents/email/acknowledgement",
        locale,
        incident=incident,
        recipient_name=name,
        category_label=category_label(incident, locale),
        acknowledge_by=local_datetime(incident.ack_due_at, locale, timezone),
        track_url=f"{base_url}/track/{incident.reference}",
    )
    return insert_mail(
        session,
        to=to,
        subject=subject,
        text=text,
        html=html,
        language=locale,
        tlp=incident.tlp,
        related=("incident", incident.reference),
        clock=clock,
        mail_domain=mail_domain,
    )
