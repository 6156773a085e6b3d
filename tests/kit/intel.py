"""Indicators in the index for tests: a feed and its records through the real store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.markings import Tlp
from feeds.index.store import store_records
from feeds.models import Feed, FeedKind, Indicator
from feeds.rules.keys import index_value
from feeds.rules.records import IndicatorRecord, Parsed

STORED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # before the tests' frozen clock


def feed(session: Session, name: str = "abuse-feed", *, tlp: Tlp = Tlp.GREEN) -> Feed:
    """The feed named ``name`` (created the first time)."""
    found = session.scalar(select(Feed).where(Feed.name == name))
    if found is not None:
        return found
    created = Feed(name=name, kind=FeedKind.FILE, default_tlp=tlp, created_at=STORED_AT)
    session.add(created)
    session.flush()
    return created


def indicator(
    session: Session,
    kind: str,
    value: str,
    *,
    feed_name: str = "abuse-feed",
    ref: str | None = None,
    now: dt.datetime = STORED_AT,
    **extra: Any,
) -> Indicator:
    """One indicator of ``kind``/``value`` (a network keeps its prefix) stored in a feed."""
    source = feed(session, feed_name)
    source_ref = ref or f"{kind}:{value}"
    record = IndicatorRecord(source_ref=source_ref, values=(index_value(kind, value),), **extra)
    store_records(session, source, Parsed("test", indicators=[record]), now=now)
    return session.scalars(
        select(Indicator).where(Indicator.feed_id == source.id, Indicator.source_ref == source_ref)
    ).one()
