"""Who was sent a list's digests, and how it went (Flask-free read model): one row per recipient
and digest run, newest period first, with the status of its outbox message — one query per
page, the outbox half and the counts as :mod:`bulletins.distribution.deliveries` for a
publication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.distribution.deliveries import OUTBOX_COLUMNS, DeliveryPage, outbox_fields, page_of
from bulletins.models import DigestDelivery, DigestRun
from core.identity.models import Organisation
from core.outbox import OutboxMessage


@dataclass(frozen=True)
class DigestDeliveryRow:
    period_start: dt.date
    frequency: str
    email: str
    name: str
    language: str
    organisation: str | None
    organisation_ar: str | None
    bulletins: int  # how many bulletins this recipient's digest listed
    status: str  # the outbox message's, "unknown" when it was purged
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None


DigestDeliveryPage = DeliveryPage[DigestDeliveryRow]


def digest_delivery_page(
    session: Session, list_id: int, *, limit: int, offset: int
) -> DigestDeliveryPage:
    query = (
        select(
            DigestRun.period_start,
            DigestRun.frequency,
            DigestDelivery.email,
            DigestDelivery.name,
            DigestDelivery.language,
            Organisation.name,
            Organisation.name_ar,
            DigestDelivery.bulletins,
            *OUTBOX_COLUMNS,
        )  # fmt: skip
        .join(DigestRun, DigestRun.id == DigestDelivery.run_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == DigestDelivery.outbox_message_id)
        .outerjoin(Organisation, Organisation.id == DigestDelivery.organisation_id)
        .where(DigestRun.list_id == list_id)
        .order_by(DigestRun.period_start.desc(), DigestRun.id.desc(), DigestDelivery.email)
        .limit(limit)
        .offset(offset)
    )
    ids = (
        select(DigestDelivery.outbox_message_id)
        .join(DigestRun, DigestRun.id == DigestDelivery.run_id)
        .where(DigestRun.list_id == list_id)
    )
    return page_of(
        session,
        query,
        ids,
        lambda r: DigestDeliveryRow(
            r[0], str(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], *outbox_fields(r[8:12])
        ),
    )
