"""Writing the STIX context a feed brings besides its indicators (use case, Flask-free; flushes,
never commits): its objects (malware, intrusion sets, attack patterns…) and the relationships
between them, one row per (feed, STIX id) and per (feed, source, type, target), a newer
``modified`` replacing the stored one (:func:`feeds.index.store.store_records` calls these for
each batch). Rows are written with executemany on Core tables, as the indicators are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from feeds.index.driver import Encoder, insert_rows
from feeds.models import Feed, IntelObject, IntelRelation
from feeds.rules.records import ObjectRecord, RelationRecord

_OBJECTS: Table = IntelObject.__table__  # type: ignore[assignment]
_RELATIONS: Table = IntelRelation.__table__  # type: ignore[assignment]


class _Versioned(Protocol):
    @property
    def modified(self) -> dt.datetime | None: ...


R = TypeVar("R", bound=_Versioned)


def newer(candidate: dt.datetime | None, stored: dt.datetime | None) -> bool:
    if stored is None:
        return True
    return candidate is not None and candidate > stored


def newest(items: Iterable[R], key: Callable[[R], Hashable]) -> dict[Hashable, R]:
    """One item per key: the newest ``modified`` (the first of equals)."""
    newest: dict[Hashable, R] = {}
    for item in items:
        known = newest.get(key(item))
        if known is None or newer(item.modified, known.modified):
            newest[key(item)] = item
    return newest


def store_objects(
    session: Session, feed: Feed, batch: Sequence[ObjectRecord], now: dt.datetime
) -> int:
    records = newest(batch, lambda o: o.stix_id)
    stored = {
        row.stix_id: row
        for row in session.execute(
            select(
                _OBJECTS.c.id, _OBJECTS.c.stix_id, _OBJECTS.c.revoked, _OBJECTS.c.modified
            ).where(_OBJECTS.c.feed_id == feed.id, _OBJECTS.c.stix_id.in_(list(records)))
        )
    }
    fresh, changed = [], []
    for stix_id, record in records.items():
        row = stored.get(str(stix_id))
        values = {
            "type": record.type,
            "name": record.name[:300],
            "external_id": record.external_id,
            "description": record.description,
            "aliases": list(record.aliases),
            "revoked": record.revoked,
            "tlp": record.tlp or feed.default_tlp,
            "data": dict(record.data),
            "modified": record.modified,
            "updated_at": now,
        }
        if row is None:
            fresh.append({"feed_id": feed.id, "stix_id": record.stix_id, **values})
        elif not row.revoked and newer(record.modified, row.modified):
            changed.append({"_id": row.id, **values})
    write_rows(session, _OBJECTS, fresh, changed)
    return len(fresh) + len(changed)


def store_relations(session: Session, feed: Feed, batch: Sequence[RelationRecord]) -> int:
    records = newest(batch, lambda r: (r.source_ref, r.relationship_type, r.target_ref))
    stored = {
        (row.source_ref, row.relationship_type, row.target_ref): row
        for row in session.execute(
            select(
                _RELATIONS.c.id,
                _RELATIONS.c.source_ref,
                _RELATIONS.c.relationship_type,
                _RELATIONS.c.target_ref,
                _RELATIONS.c.modified,
            ).where(
                _RELATIONS.c.feed_id == feed.id,
                _RELATIONS.c.source_ref.in_({r.source_ref for r in records.values()}),
            )
        )
    }
    fresh, changed = [], []
    for key, record in records.items():
        row = stored.get(key)  # type: ignore[call-overload]
        values = {"stix_id": record.stix_id, "revoked": record.revoked, "modified": record.modified}
        if row is None:
            fresh.append(
                {
                    "feed_id": feed.id,
                    "source_ref": record.source_ref,
                    "relationship_type": record.relationship_type,
                    "target_ref": record.target_ref,
                    **values,
                }
            )
        elif newer(record.modified, row.modified):
            changed.append({"_id": row.id, **values})
    write_rows(session, _RELATIONS, fresh, changed)
    return len(fresh) + len(changed)


def write_rows(
    session: Session, table: Table, fresh: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> None:
    """INSERT the new rows (driver rows) and UPDATE the changed ones by id (Core)."""
    if fresh:
        columns = list(fresh[0])
        insert_rows(session, table, columns, Encoder(session).rows(table, columns, fresh))
    if changed:
        names = [name for name in changed[0] if name != "_id"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in names})
        )
        session.execute(statement, changed)
