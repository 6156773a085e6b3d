"""Extra header fields of outbox messages (``OutboxMessage.headers``): only the allow-listed
names (``List-Unsubscribe``, ``List-Unsubscribe-Post``), single-line values, checked when queued
(nothing written) and again when sent (a row altered since fails instead of going out); both
databases, a real SMTP server."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db import SessionFactory
from core.errors import ValidationFailed
from core.mail import insert_template_mail, insert_template_mails
from core.outbox import OutboxMessage, OutboxStatus
from core.uow import transaction
from tests.core.test_mail_templates import ACKNOWLEDGEMENT, context
from tests.kit.outbox import DOMAIN, drain, mailer_for
from tests.kit.smtp import SmtpServer

UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://vigie.example/advisories/unsubscribe/abc/one-click>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def _queue(factory: SessionFactory, clock: FrozenClock, headers: dict[str, str]) -> int:
    with transaction(factory) as session:
        return insert_template_mail(
            session, to="rssi@ministere.example", template=ACKNOWLEDGEMENT, context=context(),
            clock=clock, mail_domain=DOMAIN, headers=headers,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"Bcc": "victim@example.org"}, "'Bcc' is not one of"),
        ({"List-Unsubscribe": "<https://x>\r\nBcc: victim@example.org"}, "no line break"),
        ({"List-Unsubscribe": "<https://x>\nX: y"}, "no line break"),
        ({"List-Unsubscribe-Post": " "}, "one line of 1 to 900"),
        ({"List-Unsubscribe": "<https://x/" + "a" * 900 + ">"}, "one line of 1 to 900"),
        ({"list-unsubscribe": "<https://x>"}, "is not one of"),  # the exact spelling only
    ],
)
def test_a_header_off_the_list_or_with_a_line_break_is_refused_and_nothing_queued(
    factory: SessionFactory, clock: FrozenClock, headers: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _queue(factory, clock, headers)
    assert problem in caught.value.fields["headers"]
    with pytest.raises(ValidationFailed), transaction(factory) as session:
        insert_template_mails(
            session,
            [{"to": "a@ministere.example", "context": {}},
             {"to": "b@ministere.example", "context": {}, "headers": headers}],
            template="bulletins:bulletins/email/digest", clock=clock, mail_domain=DOMAIN,
        )  # fmt: skip
    with transaction(factory) as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_allowed_headers_are_sent_and_a_row_altered_since_fails_instead(
    factory: SessionFactory, clock: FrozenClock, smtp: SmtpServer
) -> None:
    good = _queue(factory, clock, UNSUBSCRIBE)
    altered = _queue(factory, clock, UNSUBSCRIBE)
    with transaction(factory) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == altered)
            .values(headers={"List-Unsubscribe": "<x>\r\nBcc: victim@example.org"})
        )
    counts = drain(factory, mailer_for(smtp), clock)
    assert counts["sent"] == 1 and counts["failed"] == 1
    [received] = [r.message for r in smtp.handler.received]
    assert received["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Bcc"] is None and [r.rcpt_tos for r in smtp.handler.received] == [
        ["rssi@ministere.example"]
    ]
    with transaction(factory) as session:
        failed = session.get_one(OutboxMessage, altered)
        assert failed.status == OutboxStatus.FAILED and "no line break" in (failed.last_error or "")
        assert session.get_one(OutboxMessage, good).status == OutboxStatus.SENT
