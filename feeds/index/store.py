"""Writing parsed records into the indicator index (use case, Flask-free; flushes, never commits).

:func:`store_records` takes what a parser made of one document (:class:`feeds.rules.records.Parsed`)
and applies it to one feed's indicators, objects and relations (the last two:
:mod:`feeds.index.objects`), in batches:

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
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from feeds.index.driver import Encoder, insert_rows, next_ids
from feeds.index.objects import newer, store_objects, store_relations
from feeds.index.prefixes import note_prefixes, prefixes_of
from feeds.models import Feed, Indicator, IndicatorValue
from feeds.rules.bulk import paused_gc
from feeds.rules.keys import network_range
from feeds.rules.records import IndicatorRecord, Parsed

BATCH = 1000
_NETWORKS = ("ipv4", "ipv6")
T = TypeVar("T")
# Core tables: rows are written with executemany (no ORM unit of work, no per-row INSERT)
_INDICATORS: Table = Indicator.__table__  # type: ignore[assignment]
_VALUES: Table = IndicatorValue.__table__  # type: ignore[assignment]


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
    with paused_gc(), _page_cache(session):
        return _store(session, feed, parsed, now)


SQLITE_CACHE_KIB = 65536


@contextmanager
def _page_cache(session: Session) -> Iterator[None]:
    """SQLite: a 64 MiB page cache for the block (the default 2 MiB makes a large import spill
    its index pages and read them back: ~40 % of the store at 50,000 indicators), then the
    connection's own size again (left larger if the block fails: only memory)."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = int(session.execute(text("PRAGMA cache_size")).scalar_one())
    session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}"))
    yield
    session.execute(text(f"PRAGMA cache_size={before}"))


def _store(session: Session, feed: Feed, parsed: Parsed, now: dt.datetime) -> StoreCounts:
    counts = StoreCounts(rejected=len(parsed.rejections), skipped=parsed.skipped)
    counts.rejections = [{"ref": r.ref, "reason": r.reason} for r in parsed.rejections[:1000]]
    kept = _kept(feed, _latest(parsed.indicators))
    fresh: list[IndicatorRecord] = []
    if _has_indicators(session, feed):
        for batch in _batches(kept, BATCH):
            fresh += _store_batch(session, feed, batch, now, counts)
    else:  # a first import: nothing to look up
        fresh = kept
        _count_fresh(fresh, now, counts)
    _insert(session, feed, fresh, now)
    note_prefixes(session, prefixes_of(kept))
    for object_batch in _batches(parsed.objects, BATCH):
        counts.objects += store_objects(session, feed, object_batch, now)
    for relation_batch in _batches(parsed.relations, BATCH):
        counts.relations += store_relations(session, feed, relation_batch)
    session.flush()
    return counts


def _latest(records: Iterable[IndicatorRecord]) -> list[IndicatorRecord]:
    """One record per ``source_ref``: the newest version a document holds."""
    latest: dict[str, IndicatorRecord] = {}
    for record in records:
        known = latest.get(record.source_ref)
        if known is None or newer(record.modified, known.modified):
            latest[record.source_ref] = record
    return list(latest.values())


def _kept(feed: Feed, records: list[IndicatorRecord]) -> list[IndicatorRecord]:
    if not feed.types:
        return records
    wanted = set(feed.types)
    return [r for r in records if any(v.kind in wanted for v in r.values)]


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _has_indicators(session: Session, feed: Feed) -> bool:
    query = select(_INDICATORS.c.id).where(_INDICATORS.c.feed_id == feed.id).limit(1)
    return session.execute(query).first() is not None


def _count_fresh(records: Sequence[IndicatorRecord], now: dt.datetime, counts: StoreCounts) -> None:
    counts.new += len(records)
    for record in records:
        _count(record, now, counts)


def _count(record: IndicatorRecord, now: dt.datetime, counts: StoreCounts) -> None:
    counts.revoked += record.revoked
    counts.expired += (
        record.valid_until is not None and record.valid_until <= now and not record.revoked
    )


def _store_batch(
    session: Session,
    feed: Feed,
    batch: Sequence[IndicatorRecord],
    now: dt.datetime,
    counts: StoreCounts,
) -> list[IndicatorRecord]:
    """Update the batch's changed indicators; return the new ones (inserted all at once)."""
    refs = [r.source_ref for r in batch]
    rows = session.execute(
        select(
            _INDICATORS.c.id,
            _INDICATORS.c.source_ref,
            _INDICATORS.c.modified,
            _INDICATORS.c.revoked,
            _INDICATORS.c.valid_until,
        ).where(_INDICATORS.c.feed_id == feed.id, _INDICATORS.c.source_ref.in_(refs))
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
        _count(record, now, counts)
    if changed:
        _update(session, feed, changed, now)
    return fresh


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
        return newer(record.modified, modified)
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
        "related": _related(record),
        "valid_from": record.valid_from,
        "valid_until": record.valid_until,
        "revoked": record.revoked,
        "detect": record.detect,
        "first_seen": record.first_seen,
        "last_seen": record.last_seen,
        "modified": record.modified,
        "updated_at": now,
    }


_INDICATOR_COLUMNS = (
    "id", "feed_id", "source_ref", "created_at", "updated_at", "stix_id", "name", "description",
    "pattern", "pattern_type", "tlp", "confidence", "labels", "indicator_types",
    "kill_chain_phases", "related", "valid_from", "valid_until", "revoked", "detect",
    "first_seen", "last_seen", "modified",
)  # fmt: skip
_VALUE_COLUMNS = ("indicator_id", "kind", "value", "net_first", "net_last")


def _related(record: IndicatorRecord) -> list[dict[str, str | None]]:
    return [
        {"type": r.type, "name": r.name, "external_id": r.external_id, "stix_id": r.stix_id}
        for r in record.related
    ]


def _insert(
    session: Session, feed: Feed, records: Sequence[IndicatorRecord], now: dt.datetime
) -> None:
    """New indicators and their values as driver rows (:mod:`feeds.index.driver`): the same
    values as :func:`_columns` gives the Core UPDATE, ids reserved beforehand."""
    if not records:
        return
    encode = Encoder(session)
    ids = next_ids(session, _INDICATORS, len(records))
    stamp, default_tlp = encode.time(now), encode.member(feed.default_tlp)
    json, time = encode.json, encode.time
    rows = [
        (
            indicator_id, feed.id, r.source_ref, stamp, stamp, r.stix_id, r.name[:300],
            r.description, r.pattern, r.pattern_type,
            encode.member(r.tlp) if r.tlp else default_tlp,
            feed.confidence if r.confidence is None else r.confidence,
            json(r.labels), json(r.indicator_types), json(r.kill_chain_phases),
            json(_related(r)),
            time(r.valid_from), time(r.valid_until), r.revoked, r.detect,
            time(r.first_seen), time(r.last_seen), time(r.modified),
        )
        for indicator_id, r in zip(ids, records, strict=True)
    ]  # fmt: skip
    insert_rows(session, _INDICATORS, _INDICATOR_COLUMNS, rows)
    _insert_values(session, list(zip(ids, records, strict=True)))


def _update(
    session: Session,
    feed: Feed,
    changed: Sequence[tuple[int, IndicatorRecord]],
    now: dt.datetime,
) -> None:
    rows = [{"_id": indicator_id, **_columns(feed, r, now)} for indicator_id, r in changed]
    statement = (
        update(_INDICATORS)
        .where(_INDICATORS.c.id == bindparam("_id"))
        .values({name: bindparam(name) for name in rows[0] if name != "_id"})
    )
    session.execute(statement, rows)
    session.execute(
        delete(_VALUES).where(
            _VALUES.c.indicator_id.in_([indicator_id for indicator_id, _ in changed])
        )
    )
    _insert_values(session, list(changed))


def _insert_values(session: Session, pairs: Sequence[tuple[int, IndicatorRecord]]) -> None:
    rows = []
    for indicator_id, record in pairs:
        for value in dict.fromkeys(record.values):
            span = network_range(value.value) if value.kind in _NETWORKS else None
            rows.append(
                (
                    indicator_id,
                    value.kind,
                    value.value,
                    span[0] if span else None,
                    span[1] if span else None,
                )
            )
    insert_rows(session, _VALUES, _VALUE_COLUMNS, rows)
