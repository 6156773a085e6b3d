"""Publishing STIX objects into Vigie's TAXII collections (Flask-free): the write side of
:mod:`incidents.sharing.stored`, for slices above the incidents slice (a bulletin's report,
vulnerabilities and indicators, :mod:`bulletins.stix.handlers`).

:func:`sync` makes a source's stored versions exactly those given — idempotent, so a re-delivered
event changes nothing, and order-free, so an older event handled late cannot bring back what a
newer one withdrew:

* every object version given and not stored yet is added, with ``date_added`` = ``now``;
  versions stored already keep their row and ``date_added`` (a TAXII client polling with
  ``added_after`` does not get them twice);
* stored versions no longer given (another level, a withdrawn object) are removed;
* a ``TLP:RED`` level withdraws the source entirely (nothing RED is ever served);
* the audience (the organisations whose accounts read AMBER-level objects) is replaced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.markings import Tlp
from incidents.sharing import stix_objects as so
from incidents.sharing.shareable import leaves
from incidents.sharing.stored import SharedAudience, SharedObject, SharedSource


def parse_time(text: str) -> dt.datetime:
    """A STIX timestamp (``2026-03-01T10:00:00.123Z``) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def version_of(obj: so.Obj) -> dt.datetime:
    return parse_time(str(obj.get("modified") or obj["created"]))


def withdraw(session: Session, key: str) -> None:
    """Remove every object of source ``key`` from the collections."""
    session.execute(delete(SharedSource).where(SharedSource.key == key))


def sync(
    session: Session,
    key: str,
    level: Tlp,
    objects: Sequence[so.Obj],
    *,
    organisations: Iterable[int],
    now: dt.datetime,
) -> int:
    """Make source ``key`` hold exactly ``objects`` (every version to serve, all marked at
    ``level``), readable at AMBER levels by ``organisations``; return how many versions were
    added."""
    if not leaves(level):
        withdraw(session, key)
        session.flush()
        return 0
    source = session.scalar(select(SharedSource).where(SharedSource.key == key))
    if source is None:
        source = SharedSource(key=key, level=level.value, updated_at=now)
        session.add(source)
        session.flush()
    source.level, source.updated_at = level.value, now
    wanted = {(obj["id"], version_of(obj)): obj for obj in objects}
    kept: set[tuple[str, dt.datetime]] = set()
    drop: list[int] = []
    for row_id, stix_id, version, row_level in session.execute(
        select(
            SharedObject.id, SharedObject.stix_id, SharedObject.version, SharedObject.level
        ).where(SharedObject.source_id == source.id)
    ):
        if row_level == level.value and (stix_id, version) in wanted:
            kept.add((stix_id, version))
        else:
            drop.append(row_id)
    if drop:
        session.execute(delete(SharedObject).where(SharedObject.id.in_(drop)))
    added = [
        SharedObject(
            source_id=source.id,
            stix_id=stix_id,
            type=obj["type"],
            version=version,
            level=level.value,
            date_added=now,
            body=obj,
        )
        for (stix_id, version), obj in wanted.items()
        if (stix_id, version) not in kept
    ]
    session.add_all(added)
    _audience(session, source.id, organisations)
    session.flush()
    return len(added)


def _audience(session: Session, source_id: int, organisations: Iterable[int]) -> None:
    session.execute(delete(SharedAudience).where(SharedAudience.source_id == source_id))
    session.add_all(
        SharedAudience(source_id=source_id, organisation_id=org)
        for org in sorted(set(organisations))
    )
