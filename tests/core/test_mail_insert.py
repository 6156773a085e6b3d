"""``insert_mail``: ``enqueue_mail`` as one INSERT (hot paths) — the same checks, the same row."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.mail import enqueue_mail, insert_mail
from core.outbox import OutboxMessage
from tests.kit.outbox import DOMAIN

FIELDS = (
    "to_addr", "subject", "text_body", "html_body", "language", "tlp", "related_type",
    "related_id", "status", "attempts", "next_attempt_at", "lease_until", "last_error",
    "created_at", "sent_at",
)  # fmt: skip


def message(**changes: Any) -> dict[str, Any]:
    return {
        "to": " RSSI@Ministere.example ",
        "subject": "[TLP:AMBER] Signalement reçu — MACERT-2026-000001",
        "text": "Bonjour,\n\nVotre signalement est enregistré.",
        "html": "<p>Bonjour,</p>",
        "language": "fr",
        "tlp": "TLP:AMBER",
        "related": ("incident", "MACERT-2026-000001"),
        **changes,
    }


def test_insert_mail_writes_the_row_enqueue_mail_writes(
    db_session: Session, clock: FrozenClock
) -> None:
    queued = enqueue_mail(db_session, **message(), clock=clock, mail_domain=DOMAIN)
    inserted_id = insert_mail(db_session, **message(), clock=clock, mail_domain=DOMAIN)
    db_session.expire_all()
    inserted = db_session.get(OutboxMessage, inserted_id)
    assert inserted is not None and inserted_id != queued.id
    assert [getattr(inserted, f) for f in FIELDS] == [getattr(queued, f) for f in FIELDS]
    assert inserted.message_id.endswith(f"@{DOMAIN}>") and inserted.message_id != queued.message_id


def test_insert_mail_refuses_what_enqueue_mail_refuses(
    db_session: Session, clock: FrozenClock
) -> None:
    bad = message(to="not an address", subject="Injected\r\nBcc: victim@example.org", text=" ")
    with pytest.raises(ValidationFailed) as caught:
        insert_mail(db_session, **bad, clock=clock, mail_domain=DOMAIN)
    assert set(caught.value.fields) == {"to", "subject", "text"}
    assert db_session.scalars(select(OutboxMessage)).all() == []
