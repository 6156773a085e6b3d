"""Who was sent a bulletin, and how it went (Flask-free read model): one row per recipient and
publication, with the status of its outbox message (pending, sending, sent, failed), attempts,
last error and when it was sent — one query per page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.models import BulletinDelivery, DistributionList
from core.identity.models import Organisation
from core.outbox import OutboxMessage


@dataclass(frozen=True)
class DeliveryRow:
    revision: int
    email: str
    name: str
    language: str
    organisation: str | None
    list_slug: str | None
    status: str  # the outbox message's, "unknown" when it was purged
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None
    organisation_ar: str | None = None


@dataclass(frozen=True)
class DeliveryPage:
    rows: list[DeliveryRow]
    total: int
    counts: dict[str, int]  # by status, over every page


def delivery_page(session: Session, bulletin_id: int, *, limit: int, offset: int) -> DeliveryPage:
    query = (
        select(
            BulletinDelivery.revision,
            BulletinDelivery.email,
            BulletinDelivery.name,
            BulletinDelivery.language,
            Organisation.name,
            DistributionList.slug,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.sent_at,
            Organisation.name_ar,
        )  # fmt: skip
        .outerjoin(OutboxMessage, OutboxMessage.id == BulletinDelivery.outbox_message_id)
        .outerjoin(Organisation, Organisation.id == BulletinDelivery.organisation_id)
        .outerjoin(DistributionList, DistributionList.id == BulletinDelivery.list_id)
        .where(BulletinDelivery.bulletin_id == bulletin_id)
        .order_by(BulletinDelivery.revision.desc(), BulletinDelivery.email)
        .limit(limit)
        .offset(offset)
    )
    rows = [
        DeliveryRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            str(r[6]) if r[6] is not None else "unknown",
            r[7] or 0,
            r[8],
            r[9],
        )  # fmt: skip
        for r in session.execute(query)
    ]
    counts: dict[str, int] = {}
    for status, n in session.execute(
        select(OutboxMessage.status, func.count())
        .select_from(BulletinDelivery)
        .outerjoin(OutboxMessage, OutboxMessage.id == BulletinDelivery.outbox_message_id)
        .where(BulletinDelivery.bulletin_id == bulletin_id)
        .group_by(OutboxMessage.status)
    ):
        key = str(status) if status is not None else "unknown"
        counts[key] = counts.get(key, 0) + int(n)
    return DeliveryPage(rows, sum(counts.values()), counts)
