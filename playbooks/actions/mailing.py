"""Plain-text e-mails of the before-incident checks (Flask-free): one message per recipient,
queued in the outbox within the step's transaction, in the recipient's language — a subject and
lines marked with ``N_`` and translated at queueing time (:func:`core.i18n.localise`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import Message
from core.i18n import DEFAULT_LOCALE as DEFAULT_LOCALE
from core.i18n import localise, translations
from core.identity.models import Organisation, Role, User
from core.mail import enqueue_mail

Line = str | Message  # a message to translate, or data shown as it is (a value, a reference)


def render(lines: Iterable[Line], locale: str) -> str:
    gettext = translations(locale).gettext
    return "\n".join(line if not isinstance(line, Message) else localise(line, gettext)
                     for line in lines)  # fmt: skip


def queue(
    session: Session,
    *,
    to: str,
    locale: str,
    subject: Message,
    lines: Sequence[Line],
    tlp: str | None,
    related: tuple[str, object] | None,
    clock: Clock,
    mail_domain: str,
) -> None:
    enqueue_mail(
        session,
        to=to,
        subject=render([subject], locale),
        text=render(lines, locale) + "\n",
        language=locale,
        tlp=tlp,
        related=related,
        clock=clock,
        mail_domain=mail_domain,
    )


def organisation_contacts(organisation: Organisation) -> list[tuple[str, str]]:
    """The organisation's contact addresses, each with the language it is written to (the
    organisation's reference language: French)."""
    return [(email, DEFAULT_LOCALE) for email in dict.fromkeys(organisation.contact_emails)]


def leads(session: Session) -> list[User]:
    """The CERT's active leads (and admins), who get the checks' alerts."""
    return list(
        session.scalars(
            select(User)
            .where(User.role.in_([Role.LEAD, Role.ADMIN]), User.is_active.is_(True))
            .order_by(User.id)
        )
    )
