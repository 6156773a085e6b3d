"""Who was sent a bulletin, and how it went (Flask-free read model): one row per recipient and
publication, with the status of its outbox message (pending, sending, sent, failed), attempts,
last error and when it was sent — one query per page. The outbox half of a row and the counts by
status are shared with :mod:`bulletins.digests.deliveries` (a list's digests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bulletins.models import BulletinDelivery, DistributionList
from core.identity.models import Organisation
from core.outbox import OutboxMessage

R = TypeVar("R")

# The last four columns of every deliveries query, turned into a row's fields by outbox_fields.
OUTBOX_COLUMNS = (
    OutboxMessage.status,
    OutboxMessage.attempts,
    OutboxMessage.last_error,
    OutboxMessage.sent_at,
)


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
class DeliveryPage(Generic[R]):
    rows: list[R]
    total: int
    counts: dict[str, int]  # by status, over every page


def outbox_fields(outbox: Sequence[Any]) -> tuple[str, int, str | None, dt.datetime | None]:
    """Status, attempts, last error and sending time of the OUTBOX_COLUMNS values — status
    ``unknown`` and no attempt when the message was purged."""
    status, attempts, last_error, sent_at = outbox
    return (str(status) if status is not None else "unknown", attempts or 0, last_error, sent_at)


def page_of(
    session: Session,
    rows: Select[*tuple[Any, ...]],
    outbox_ids: Select[Any],
    row: Callable[[Any], R],
) -> DeliveryPage[R]:
    """One page of ``rows`` (each made by ``row``) and the counts by status over every page of
    the deliveries whose outbox message ids ``outbox_ids`` selects."""
    found = [row(r) for r in session.execute(rows)]
    ids = outbox_ids.subquery()
    counts: dict[str, int] = {}
    for status, n in session.execute(
        select(OutboxMessage.status, func.count())
        .select_from(ids)
        .outerjoin(OutboxMessage, OutboxMessage.id == ids.c[0])
        .group_by(OutboxMessage.status)
    ):
        key = str(status) if status is not None else "unknown"
        counts[key] = counts.get(key, 0) + int(n)
    return DeliveryPage(found, sum(counts.values()), counts)


def delivery_page(
    session: Session, bulletin_id: int, *, limit: int, offset: int
) -> DeliveryPage[DeliveryRow]:
    query = (
        select(
            BulletinDelivery.revision,
            BulletinDelivery.email,
            BulletinDelivery.name,
            BulletinDelivery.language,
            Organisation.name,
            DistributionList.slug,
            *OUTBOX_COLUMNS,
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
    ids = select(BulletinDelivery.outbox_message_id).where(
        BulletinDelivery.bulletin_id == bulletin_id
    )
    return page_of(
        session,
        query,
        ids,
        lambda r: DeliveryRow(r[0], r[1], r[2], r[3], r[4], r[5], *outbox_fields(r[6:10]), r[10]),
    )
