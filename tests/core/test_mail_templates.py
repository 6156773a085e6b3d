"""Messages queued as a template and its context, rendered when a sender first claims them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db import SessionFactory
from core.errors import ValidationFailed
from core.mail import insert_template_mail
from core.mail_compose import rendered
from core.mailers import MemoryMailer
from core.outbox import OutboxMessage, OutboxStatus
from core.uow import transaction
from tests.kit.outbox import DOMAIN, all_rows, drain

ACKNOWLEDGEMENT = "incidents:incidents/email/acknowledgement"


def context(**changes: Any) -> dict[str, Any]:
    return {
        "incident": {
            "reference": "MACERT-2026-000042",
            "title": "Hameçonnage <ciblé>",
            "priority": "P2",
            "tlp": "TLP:AMBER",
            "pap": "PAP:GREEN",
        },
        "recipient_name": "Amal",
        "classification": ["Fraud", "Phishing"],
        "acknowledge_by": "2026-11-23T16:00:00+00:00",
        "timezone": "Africa/Casablanca",
        "track_url": "https://cert.example/track/MACERT-2026-000042",
        **changes,
    }


def queue_template(
    factory: SessionFactory, clock: FrozenClock, *, template: str = ACKNOWLEDGEMENT, **kw: Any
) -> int:
    with transaction(factory) as session:
        return insert_template_mail(
            session,
            to=kw.pop("to", "rssi@sante.gov.ma"),
            template=template,
            context=kw.pop("context", context()),
            language=kw.pop("language", "fr"),
            tlp="TLP:AMBER",
            related=("incident", "MACERT-2026-000042"),
            clock=clock,
            mail_domain=DOMAIN,
        )


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("fr", "[TLP:AMBER] Signalement d’incident reçu — MACERT-2026-000042", "Hameçonnage"),
        ("ar", "[TLP:AMBER]", "التصيد"),
        ("en", "[TLP:AMBER] Incident report received — MACERT-2026-000042", "Phishing"),
    ],
)
def test_a_template_is_rendered_in_the_recipients_language_when_sent(
    factory: SessionFactory, clock: FrozenClock, language: str, subject: str, words: str
) -> None:
    queue_template(factory, clock, language=language)
    [row] = all_rows(factory)
    assert row.subject is None and row.text_body is None  # nothing rendered while queuing
    mailer = MemoryMailer()
    assert drain(factory, mailer, clock)["sent"] == 1
    [message] = mailer.sent
    assert message["Subject"].startswith(subject) and message["Content-Language"] == language
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "P2\n" in text and not [
        line for line in text.splitlines() if "P2" in line and words in line
    ]
    assert words in text and "https://cert.example/track/MACERT-2026-000042" in text
    assert "Hameçonnage &lt;ciblé&gt;" in html  # the context is escaped in HTML
    assert ("17:00" if language == "fr" else "5:00") in text  # 16:00 UTC in Casablanca (UTC+1)
    [row] = all_rows(factory)  # the rendered content is kept with the message
    assert row.subject == message["Subject"] and words in (row.text_body or "")
    stored = [(row.text_body or "").rstrip("\n"), (row.html_body or "").rstrip("\n")]
    assert stored == [text.rstrip("\n"), html.rstrip("\n")]


def test_a_retry_sends_the_text_rendered_the_first_time(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    queue_template(factory, clock)
    assert drain(factory, MemoryMailer(fail_with=OSError("down")), clock)["retried"] == 1
    [row] = all_rows(factory)
    first = rendered(row)
    with transaction(factory) as session:  # a later context change must not alter the message
        stored = session.scalars(select(OutboxMessage)).one()
        stored.template_context = context(recipient_name="Quelqu'un d'autre")
    clock.advance(hours=1)
    mailer = MemoryMailer()
    assert drain(factory, mailer, clock)["sent"] == 1
    assert mailer.sent[0]["Subject"] == first[0]
    assert "Amal" in mailer.sent[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("template", "changes", "reason"),
    [
        ("incidents:incidents/email/missing", {}, "TemplateNotFound"),
        (ACKNOWLEDGEMENT, {"incident": {"reference": "X"}}, "UndefinedError"),
        ("nosuchpackage:email/acknowledgement", {}, "cannot be rendered"),
    ],
)
def test_a_template_that_cannot_be_rendered_fails_without_sending(
    factory: SessionFactory,
    clock: FrozenClock,
    template: str,
    changes: dict[str, Any],
    reason: str,
) -> None:
    queue_template(factory, clock, template=template, context=context(**changes))
    mailer = MemoryMailer()
    assert drain(factory, mailer, clock) == {"sent": 0, "retried": 0, "failed": 1}
    [row] = all_rows(factory)
    assert mailer.sent == [] and row.status == OutboxStatus.FAILED
    assert row.last_error is not None and reason in row.last_error and template in row.last_error


def test_a_templated_message_is_checked_when_queued(
    factory: SessionFactory, clock: FrozenClock
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        queue_template(factory, clock, template="no-package-name", to="not an address")
    assert set(caught.value.fields) == {"template"}
    with pytest.raises(ValidationFailed) as caught:
        queue_template(factory, clock, to="not an address", language="???")
    assert set(caught.value.fields) == {"to", "language"}
    assert all_rows(factory) == []
