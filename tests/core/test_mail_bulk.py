"""Many messages queued as one template in batched INSERTs (``core.mail.insert_template_mails``)
on both databases: the ids come back in the order of the messages, each row is the same as
``insert_template_mail`` would write, and one bad address refuses the whole batch."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.mail import insert_template_mails
from core.outbox import OutboxMessage, OutboxStatus

TEMPLATE = "incidents:incidents/email/acknowledgement"


def test_many_messages_in_order(db_session: Session, clock: FrozenClock) -> None:
    messages = [{"to": f"Agent{i}@Sante.gov.ma", "language": ("fr", "ar")[i % 2],
                 "context": {"n": i}} for i in range(250)]  # fmt: skip
    ids = insert_template_mails(db_session, messages, template=TEMPLATE, tlp="TLP:AMBER",
                                related=("bulletin", "MACERT-AVI-2026-0001"), clock=clock,
                                mail_domain="cert.example")  # fmt: skip
    assert len(set(ids)) == 250
    rows = {r.id: r for r in db_session.scalars(select(OutboxMessage))}
    for i, row_id in enumerate(ids):
        row = rows[row_id]
        assert row.to_addr == f"Agent{i}@sante.gov.ma" and row.template_context == {"n": i}
        assert row.language == ("fr", "ar")[i % 2] and row.status == OutboxStatus.PENDING
        assert (row.tlp, row.related_type, row.subject) == ("TLP:AMBER", "bulletin", None)
    assert insert_template_mails(db_session, [], template=TEMPLATE, clock=clock,
                                 mail_domain="x") == []  # fmt: skip


def test_one_bad_address_refuses_the_batch(db_session: Session, clock: FrozenClock) -> None:
    messages = [{"to": "ok@sante.gov.ma", "context": {}}, {"to": "not an address", "context": {}}]
    with pytest.raises(ValidationFailed) as refused:
        insert_template_mails(db_session, messages, template=TEMPLATE, clock=clock,
                              mail_domain="cert.example")  # fmt: skip
    assert "to" in refused.value.fields
    with pytest.raises(ValidationFailed):
        insert_template_mails(db_session, messages[:1], template="no-colon", clock=clock,
                              mail_domain="cert.example")  # fmt: skip
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
