"""Who was sent a list's digests, and how it went (Flask-free read model): one row per recipient
and digest run, newest period first, with the status of its outbox message — one query per
page, as :mod:`bulletins.distribution.deliveries` for a publication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


@dataclass(frozen=True)
class DigestDeliveryPage:
    rows: list[DigestDeliveryRow]
    total: int
    counts: dict[str, int]  # by status, over every page


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
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.sent_at,
        )  # fmt: skip
        .join(DigestRun, DigestRun.id == DigestDelivery.run_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == DigestDelivery.outbox_message_id)
        .outerjoin(Organisation, Organisation.id == DigestDelivery.organisation_id)
        .where(DigestRun.list_id == list_id)
        .order_by(DigestRun.period_start.desc(), DigestRun.id.desc(), DigestDelivery.email)
        .limit(limit)
        .offset(offset)
    )
    rows = [
        DigestDeliveryRow(
            r[0],
            str(r[1]),
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            str(r[8]) if r[8] is not None else "unknown",
            r[9] or 0,
            r[10],
            r[11],
        )  # fmt: skip
        for r in session.execute(query)
    ]
    counts: dict[str, int] = {}
    for status, n in session.execute(
        select(OutboxMessage.status, func.count())
        .select_from(DigestDelivery)
        .join(DigestRun, DigestRun.id == DigestDelivery.run_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == DigestDelivery.outbox_message_id)
        .where(DigestRun.list_id == list_id)
        .group_by(OutboxMessage.status)
    ):
        key = str(status) if status is not None else "unknown"
        counts[key] = counts.get(key, 0) + int(n)
    return DigestDeliveryPage(rows, sum(counts.values()), counts)
