"""Snapshot sources: what a feed's latest whole list no longer holds expires (use case,
Flask-free; flushes, never commits).

A blocklist (or a STIX bundle at a URL) is the source's whole current list, without versions:
an indicator absent from the latest snapshot is no longer stated, so :func:`expire_absent`
sets its ``valid_until`` to the poll's time (it stops matching, counted ``expired``). When the
value comes back in a later snapshot, :func:`feeds.index.store.store_records` revives it (an
unversioned record clears a stored ``valid_until``). Revoked and already expired indicators are
left as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from feeds.models import Feed, Indicator

BATCH = 500


def expire_absent(
    session: Session, feed: Feed, present_refs: Collection[str], *, now: dt.datetime
) -> int:
    """Expire ``feed``'s live indicators whose ``source_ref`` is not in ``present_refs``;
    the number expired."""
    present = set(present_refs)
    live = session.execute(
        select(Indicator.id, Indicator.source_ref).where(
            Indicator.feed_id == feed.id,
            Indicator.revoked.is_(False),
            or_(Indicator.valid_until.is_(None), Indicator.valid_until > now),
        )
    ).all()
    absent = [row.id for row in live if row.source_ref not in present]
    for start in range(0, len(absent), BATCH):
        session.execute(
            update(Indicator)
            .where(Indicator.id.in_(absent[start : start + BATCH]))
            .values(valid_until=now, updated_at=now)
        )
    session.flush()
    return len(absent)
