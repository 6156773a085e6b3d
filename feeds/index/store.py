"""Writing parsed records into the indicator index (use case, Flask-free; flushes, never commits).

:func:`store_records` takes what a parser made of one document (:class:`feeds.rules.records.Parsed`)
and applies it to one feed's indicators, objects and relations, in batches:

* an indicator is keyed by (feed, ``source_ref``); a record whose ``modified`` is not newer than
  the stored one changes nothing (``unchanged``) — newer ``modified`` wins;
* ``revoked`` records mark the stored indicator revoked (counted ``revoked``), and a new
  revoked one is stored revoked so that an older version arriving later cannot revive it;
* a record already past its ``valid_until`` is counted ``expired`` (stored, never matched);
* the feed's default TLP and confidence fill what a record leaves unset; a TLP is never
  loosened by a newer version without the source saying so;
* values are rewritten only when an indicator is new or changed.

Returns the counts; the caller records them on its :class:`feeds.models.FeedRun`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from feeds.models import Feed, Indicator, IndicatorValue, IntelObject, IntelRelation
from feeds.rules.keys import network_range
from feeds.rules.records import IndicatorRecord, ObjectRecord, Parsed, RelationRecord

BATCH = 500
T = TypeVar("T")


@dataclass
class StoreCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    revoked: int = 0
    expired: int = 0
    rejected: int = 0
    skipped: int = 0
    objects: int = 0
    relations: int = 0
    rejections: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "revoked": self.revoked,
            "expired": self.expired,
            "rejected": self.rejected,
        }


def store_records(session: Session, feed: Feed, parsed: Parsed, *, now: dt.datetime) -> StoreCounts:
    """Apply ``parsed`` to ``feed``'s part of the index (see the module's rules)."""
    counts = StoreCounts(rejected=len(parsed.rejections), skipped=parsed.skipped)
    counts.rejections = [{"ref": r.ref, "reason": r.reason} for r in parsed.rejections[:1000]]
    kept = _kept(feed, _latest(parsed.indicators))
    for batch in _batches(kept, BATCH):
        _store_batch(session, feed, batch, now, counts)
    for object_batch in _batches(parsed.objects, BATCH):
        counts.objects += _store_objects(session, feed, object_batch, now)
    for relation_batch in _batches(parsed.relations, BATCH):
        counts.relations += _store_relations(session, feed, relation_batch)
    session.flush()
    return counts


def _latest(records: Iterable[IndicatorRecord]) -> list[IndicatorRecord]:
    """One record per ``source_ref``: the newest version a document holds."""
    latest: dict[str, IndicatorRecord] = {}
    for record in records:
        known = latest.get(record.source_ref)
        if known is None or _newer(record.modified, known.modified):
            latest[record.source_ref] = record
    return list(latest.values())


def _kept(feed: Feed, records: list[IndicatorRecord]) -> list[IndicatorRecord]:
    if not feed.types:
        return records
    wanted = set(feed.types)
    return [r for r in records if any(v.kind in wanted for v in r.values)]


def _newer(candidate: dt.datetime | None, stored: dt.datetime | None) -> bool:
    if stored is None:
        return True
    return candidate is not None and candidate > stored


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _store_batch(
    session: Session,
    feed: Feed,
    batch: Sequence[IndicatorRecord],
    now: dt.datetime,
    counts: StoreCounts,
) -> None:
    refs = [r.source_ref for r in batch]
    rows = session.execute(
        select(
            Indicator.id,
            Indicator.source_ref,
            Indicator.modified,
            Indicator.revoked,
            Indicator.valid_until,
        ).where(Indicator.feed_id == feed.id, Indicator.source_ref.in_(refs))
    ).all()
    stored = {row.source_ref: row for row in rows}
    fresh: list[IndicatorRecord] = []
    changed: list[tuple[int, IndicatorRecord]] = []
    for record in batch:
        row = stored.get(record.source_ref)
        if row is None:
            fresh.append(record)
            counts.new += 1
        elif _changes(row.revoked, row.modified, row.valid_until, record):
            changed.append((row.id, record))
            counts.updated += 1
        else:
            counts.unchanged += 1
            continue
        counts.revoked += record.revoked
        counts.expired += (
            record.valid_until is not None and record.valid_until <= now and not record.revoked
        )
    if fresh:
        _insert(session, feed, fresh, now)
    if changed:
        _update(session, feed, changed, now)


def _changes(
    revoked: bool,
    modified: dt.datetime | None,
    valid_until: dt.datetime | None,
    record: IndicatorRecord,
) -> bool:
    """Whether a record changes its stored indicator: never once revoked; a versioned record
    when it is newer; an unversioned one (a list entry) when it revokes, or revives an entry
    that had expired (left the list, then came back)."""
    if revoked:
        return False
    if record.modified is not None or modified is not None:
        return _newer(record.modified, modified)
    return record.revoked or valid_until is not None


def _columns(feed: Feed, record: IndicatorRecord, now: dt.datetime) -> dict[str, Any]:
    return {
        "stix_id": record.stix_id,
        "name": record.name[:300],
        "description": record.description,
        "pattern": record.pattern,
        "pattern_type": record.pattern_type,
        "tlp": record.tlp or feed.default_tlp,
        "confidence": feed.confidence if record.confidence is None else record.confidence,
        "labels": list(record.labels),
        "indicator_types": list(record.indicator_types),
        "kill_chain_phases": list(record.kill_chain_phases),
        "related": [
            {"type": r.type, "name": r.name, "external_id": r.external_id, "stix_id": r.stix_id}
            for r in record.related
        ],
        "valid_from": record.valid_from,
        "valid_until": record.valid_until,
        "revoked": record.revoked,
        "detect": record.detect,
        "first_seen": record.first_seen,
        "last_seen": record.last_seen,
        "modified": record.modified,
        "updated_at": now,
    }


def _insert(
    session: Session, feed: Feed, records: Sequence[IndicatorRecord], now: dt.datetime
) -> None:
    session.execute(
        insert(Indicator),
        [
            {
                "feed_id": feed.id,
                "source_ref": r.source_ref,
                "created_at": now,
                **_columns(feed, r, now),
            }
            for r in records
        ],
    )
    ids: dict[str, int] = dict(
        session.execute(
            select(Indicator.source_ref, Indicator.id).where(
                Indicator.feed_id == feed.id,
                Indicator.source_ref.in_([r.source_ref for r in records]),
            )
        ).all()
    )
    _insert_values(session, [(ids[r.source_ref], r) for r in records])


def _update(
    session: Session,
    feed: Feed,
    changed: Sequence[tuple[int, IndicatorRecord]],
    now: dt.datetime,
) -> None:
    for indicator_id, record in changed:
        session.execute(
            update(Indicator)
            .where(Indicator.id == indicator_id)
            .values(**_columns(feed, record, now))
        )
    session.execute(
        delete(IndicatorValue).where(
            IndicatorValue.indicator_id.in_([indicator_id for indicator_id, _ in changed])
        )
    )
    _insert_values(session, list(changed))


def _insert_values(session: Session, pairs: Sequence[tuple[int, IndicatorRecord]]) -> None:
    rows = []
    for indicator_id, record in pairs:
        for value in dict.fromkeys(record.values):
            span = network_range(value.value) if value.kind in ("ipv4", "ipv6") else None
            rows.append(
                {
                    "indicator_id": indicator_id,
                    "kind": value.kind,
                    "value": value.value,
                    "net_first": span[0] if span else None,
                    "net_last": span[1] if span else None,
                }
            )
    if rows:
        session.execute(insert(IndicatorValue), rows)


def _store_objects(
    session: Session, feed: Feed, batch: Sequence[ObjectRecord], now: dt.datetime
) -> int:
    stored = {
        row.stix_id: row
        for row in session.scalars(
            select(IntelObject).where(
                IntelObject.feed_id == feed.id,
                IntelObject.stix_id.in_([o.stix_id for o in batch]),
            )
        )
    }
    written = 0
    for record in batch:
        row = stored.get(record.stix_id)
        if row is not None and (row.revoked or not _newer(record.modified, row.modified)):
            continue
        if row is None:
            row = IntelObject(feed_id=feed.id, stix_id=record.stix_id)
            session.add(row)
            stored[record.stix_id] = row
        row.type, row.name = record.type, record.name[:300]
        row.external_id, row.description = record.external_id, record.description
        row.aliases, row.revoked = list(record.aliases), record.revoked
        row.tlp = record.tlp or feed.default_tlp
        row.data, row.modified, row.updated_at = dict(record.data), record.modified, now
        written += 1
    return written


def _store_relations(session: Session, feed: Feed, batch: Sequence[RelationRecord]) -> int:
    keys = {(r.source_ref, r.relationship_type, r.target_ref): r for r in batch}
    stored = {
        (row.source_ref, row.relationship_type, row.target_ref): row
        for row in session.scalars(
            select(IntelRelation).where(
                IntelRelation.feed_id == feed.id,
                IntelRelation.source_ref.in_([r.source_ref for r in batch]),
            )
        )
    }
    written = 0
    for key, record in keys.items():
        row = stored.get(key)
        if row is not None and not _newer(record.modified, row.modified):
            continue
        if row is None:
            row = IntelRelation(
                feed_id=feed.id,
                source_ref=record.source_ref,
                relationship_type=record.relationship_type,
                target_ref=record.target_ref,
            )
            session.add(row)
        row.stix_id, row.revoked, row.modified = record.stix_id, record.revoked, record.modified
        written += 1
    return written
