"""The published objects of a TAXII collection (Flask-free): what other slices stored with
:mod:`incidents.sharing.publishing` (a bulletin's report, vulnerabilities and indicators),
read as the collections' third source (:mod:`incidents.sharing.collections`).

Who reads what mirrors the bulletins' read rule (:mod:`bulletins.access`): CERT staff every
level; any account the ``TLP:CLEAR`` and ``TLP:GREEN`` objects; at ``TLP:AMBER`` and
``TLP:AMBER+STRICT`` only the accounts of the organisations the source names (a bulletin's
concerned organisations). ``TLP:RED`` is never stored.

Versions: an object may have several (a bulletin revised); ``match[version]`` picks ``last``
(the default), ``first``, ``all`` or given timestamps. Order: ``date_added``, then the row, on
the index ``ix_shared_stix_objects_level_added``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from core.markings import Tlp
from incidents.sharing.shareable import Audience
from incidents.sharing.stored import SharedAudience, SharedObject
from incidents.sharing.taxii_params import Query

MILLI = dt.timedelta(milliseconds=1)


def published_rows(
    session: Session, audience: Audience, level: Tlp, query: Query, rank: int
) -> Iterator[tuple[dt.datetime, int, dict[str, Any]]]:
    """(date added, row, object) of the published objects at ``level`` that ``audience`` may
    read and ``query`` asks for, in order, at most ``query.limit + 1``; ``rank``: this source's
    place in the collection's order (for the ``next`` cursor)."""
    if query.types is not None and not query.types:
        return
    obj = SharedObject
    conditions: list[ColumnElement[bool]] = [obj.level == level.value]
    if level in (Tlp.AMBER, Tlp.AMBER_STRICT) and not audience.staff:
        conditions.append(
            exists().where(
                SharedAudience.source_id == obj.source_id,
                SharedAudience.organisation_id == audience.organisation_id,
            )
        )
    if query.types is not None:
        conditions.append(obj.type.in_(sorted(query.types)))
    if query.ids is not None:
        conditions.append(obj.stix_id.in_(sorted(query.ids)))
    if query.added_after is not None:
        conditions.append(obj.date_added > query.added_after)
    if (cursor := query.after) is not None:
        if rank > cursor.rank:
            conditions.append(obj.date_added >= cursor.date_added)
        elif rank < cursor.rank:
            conditions.append(obj.date_added > cursor.date_added)
        else:
            conditions.append(
                tuple_(obj.date_added, obj.id) > tuple_(cursor.date_added, cursor.row)
            )
    conditions += _versions(query)
    rows = session.execute(
        select(obj.date_added, obj.id, obj.body)
        .where(*conditions)
        .order_by(obj.date_added, obj.id)
        .limit(query.limit + 1)
    )
    for date_added, row, body in rows:
        yield date_added, row, dict(body)


def _versions(query: Query) -> list[ColumnElement[bool]]:
    obj = SharedObject
    if query.versions is not None:
        return [
            or_(*(and_(obj.version >= v, obj.version < v + MILLI) for v in _floor(query.versions)))
        ]
    if "all" in query.edges:
        return []
    other = aliased(SharedObject)
    edges = []
    if "last" in query.edges:
        latest = select(func.max(other.version)).where(other.stix_id == obj.stix_id)
        edges.append(obj.version == latest.scalar_subquery())
    if "first" in query.edges:
        earliest = select(func.min(other.version)).where(other.stix_id == obj.stix_id)
        edges.append(obj.version == earliest.scalar_subquery())
    return [or_(*edges)]


def _floor(versions: tuple[dt.datetime, ...]) -> list[dt.datetime]:
    return [v.replace(microsecond=v.microsecond // 1000 * 1000) for v in versions]
