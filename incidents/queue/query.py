"""Incident lists: filtered, sorted, keyset-paginated incidents (read side, Flask-free).

One read model behind every list of incidents: the analysts' queue (:func:`queue_page`, CERT staff
only), its CSV export (:func:`queue_rows`) and ``GET /api/v1/incidents`` (:func:`incident_page`,
:func:`offset_page`, any signed-in user), all reading a :class:`QueueFilter`. What each caller
sees comes from :func:`incidents.access.visible`; the filters only ever narrow it. Reporters may
not filter on the assignee (CERT-internal), and their ``q`` reaches only the observables their own
organisation reported (:func:`incidents.queue.search.matches`).
A page is one narrow query for the ids of its rows, in order, then one for those rows
(organisation joined, assignee joined) and one ``IN`` query for their observables; the total is
one ``COUNT`` over the same filter, capped at :data:`COUNT_CAP` (the page shows "more than
10,000", the API says ``total_capped``) so that a broad filter never counts the whole table; with
a text search (``q``) at :data:`SEARCH_COUNT_CAP`, since each row a search counts is matched,
not just found in an index (a frequent word at 1,000,000 incidents: ~8,000 heap pages read for
the count alone, more than the page itself).

Indexes serving it (migration 0004): one per filter column, leading with it, then the sort
column, then ``tlp`` and ``assignee_id`` — what :func:`incidents.access.visible` reads — so that
the count of a filter is an index-only scan (``ix_incidents_status_received``,
``ix_incidents_status_priority``, ``ix_incidents_status_sla`` for the SLA filters,
``ix_incidents_assignee``, ``ix_incidents_priority_received``, ``ix_incidents_category_received``,
``ix_incidents_tlp_received``, ``ix_incidents_centre_received`` for ``centre``, migration 0037);
the default page (newest first) walks ``ix_incidents_received_at``
backwards and stops after one page; ``q`` uses the full-text indexes of
:mod:`incidents.queue.search`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select, text
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from core.clock import Clock
from core.errors import PermissionDenied, ValidationFailed
from core.identity.authz import Actor, require
from core.identity.centres import Centre
from core.identity.models import Organisation, Role, User
from incidents.access import visible
from incidents.intel.models import IncidentMatch
from incidents.models import Incident
from incidents.queue import search
from incidents.queue.filter import QueueFilter
from incidents.queue.keyset import Cursor, beyond, sort_column, sort_value
from incidents.rules.sla import sla_clause

__all__ = [
    "COUNT_CAP",
    "SEARCH_COUNT_CAP",
    "OffsetPage",
    "QueueFilter",
    "QueuePage",
    "centre_ids",
    "count_cap",
    "count_new",
    "incident_page",
    "offset_page",
    "queue_page",
    "queue_rows",
]

COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000  # the count of a filter with a text search (``q``)
NEW_CAP = 99  # "N new incidents" says "more than 99" beyond
MAX_LIMIT = 200
EXPORT_BATCH = 500


@dataclass(frozen=True)
class QueuePage:
    items: list[Incident]
    total: int  # at most count_cap() (then ``more`` is true)
    more: bool  # the count stopped at the cap
    next: str | None  # cursor of the following page
    previous: str | None  # cursor of the page before (None on the first page)


def queue_page(
    session: Session,
    actor: Actor,
    f: QueueFilter,
    *,
    clock: Clock,
    limit: int = 50,
    tz: dt.tzinfo = dt.UTC,
) -> QueuePage:
    """One page of the analysts' queue and the filter's total, at most :func:`count_cap`.
    ``tz``: the zone of the date filters."""
    require(actor, Role.ANALYST, "the incident queue")
    return incident_page(session, actor, f, clock=clock, limit=limit, tz=tz)


def incident_page(
    session: Session,
    actor: Actor,
    f: QueueFilter,
    *,
    clock: Clock,
    limit: int = 50,
    tz: dt.tzinfo = dt.UTC,
) -> QueuePage:
    """One keyset page of the incidents ``actor`` may see matching ``f``, and their total (at
    most :func:`count_cap`)."""
    _custom_plans(session)
    limit = max(1, min(limit, MAX_LIMIT))
    where = conditions(session, actor, f, now=clock.now(), tz=tz)
    cap = count_cap(f)
    total = _count(session, where, cap=cap)
    forward = f.before is None
    token = f.after if forward else f.before
    cursor = Cursor.decode(token, f.sort, "after" if forward else "before") if token else None
    rows = _fetch(session, f, where, cursor, forward=forward, limit=limit + 1)
    extra = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    has_next = extra if forward else cursor is not None
    has_previous = (cursor is not None) if forward else extra
    return QueuePage(
        items=rows,
        total=min(total, cap),
        more=total > cap,
        next=_cursor_of(f, rows[-1]) if rows and has_next else None,
        previous=_cursor_of(f, rows[0]) if rows and has_previous else None,
    )


@dataclass(frozen=True)
class OffsetPage:
    items: list[Incident]
    total: int  # at most count_cap() (then ``capped`` is true)
    capped: bool
    more: bool  # rows follow this page


def offset_page(
    session: Session,
    actor: Actor,
    f: QueueFilter,
    *,
    clock: Clock,
    limit: int,
    offset: int,
    tz: dt.tzinfo = dt.UTC,
) -> OffsetPage:
    """Rows ``offset`` to ``offset + limit`` in the filter's order (the API's ``offset``, kept for
    the clients that page by number; a cursor costs the same at any depth, an offset does not)."""
    _custom_plans(session)
    if f.after or f.before:
        raise ValidationFailed(
            "invalid pagination", fields={"offset": "give offset or a cursor, not both"}
        )
    where = conditions(session, actor, f, now=clock.now(), tz=tz)
    cap = count_cap(f)
    total = _count(session, where, cap=cap)
    rows = _fetch(session, f, where, None, forward=True, limit=limit + 1, offset=offset)
    return OffsetPage(
        items=rows[:limit],
        total=min(total, cap),
        capped=total > cap,
        more=len(rows) > limit,
    )


def count_cap(f: QueueFilter) -> int:
    """How far the total of ``f`` is counted: :data:`SEARCH_COUNT_CAP` with a text search,
    :data:`COUNT_CAP` without."""
    return SEARCH_COUNT_CAP if f.q and search.terms_of(f.q) else COUNT_CAP


def count_new(
    session: Session,
    actor: Actor,
    f: QueueFilter,
    since: dt.datetime,
    *,
    clock: Clock,
    tz: dt.tzinfo = dt.UTC,
) -> int:
    """How many incidents matching ``f`` were received after ``since`` (the queue's "N new
    incidents"), counting no further than ``NEW_CAP + 1``: a range of the received-at index
    (alone, or after the filter's leading column) read from its newest end."""
    require(actor, Role.ANALYST, "the incident queue")
    _custom_plans(session)
    where = conditions(session, actor, f.without_cursor(), now=clock.now(), tz=tz)
    return _count(session, [*where, Incident.received_at > since], cap=NEW_CAP)


def queue_rows(
    session: Session, actor: Actor, f: QueueFilter, *, clock: Clock, tz: dt.tzinfo = dt.UTC
) -> Iterator[Incident]:
    """Every matching incident in the queue's order (CSV export), fetched in keyset batches.
    The filter is checked at the call (an unknown centre: ``ValidationFailed`` before a row)."""
    require(actor, Role.ANALYST, "the incident queue")
    _custom_plans(session)
    f = f.without_cursor()
    where = conditions(session, actor, f, now=clock.now(), tz=tz)
    return _batches(session, f, where)


def _batches(
    session: Session, f: QueueFilter, where: list[ColumnElement[bool]]
) -> Iterator[Incident]:
    cursor: Cursor | None = None
    while True:
        rows = _fetch(session, f, where, cursor, forward=True, limit=EXPORT_BATCH)
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return
        cursor = Cursor(f.sort, sort_value(f.sort_key, rows[-1]), rows[-1].id)
        session.expunge_all()  # keep memory flat over long exports


def _custom_plans(session: Session) -> None:
    """PostgreSQL-specific: plan the queue's statements for their actual values.

    psycopg prepares a statement after 5 executions on a connection, and PostgreSQL may then
    switch to a generic plan, blind to the filter values; for these filters it was up to 8×
    slower (a sequential scan instead of the index matching the values). ``SET LOCAL`` lasts
    until the end of the caller's transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def conditions(
    session: Session, actor: Actor, f: QueueFilter, *, now: dt.datetime, tz: dt.tzinfo
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``f`` for ``actor`` (visibility first). ``PermissionDenied``
    naming ``assignee`` when a reporter filters on it: who handles an incident is CERT-internal."""
    staff = actor.is_cert_staff
    if not staff:
        _staff_filters(f)
    where: list[ColumnElement[bool]] = [visible(actor)]
    for column, values in (
        (Incident.status, f.statuses()),
        (Incident.category, f.category),
        (Incident.type, f.type),
        (Incident.priority, f.priority),
        (Incident.tlp, f.tlp),
    ):
        if values:
            where.append(column.in_(sorted(values)))
    where += _constituency(session, f)
    if f.assignee is not None:
        where.append(_assignee(actor, f.assignee))
    if f.sla is not None:
        where.append(sla_clause(f.sla, now, dt.timedelta(hours=f.due_within)))
    if f.has_match is not None:
        sighted = exists().where(IncidentMatch.incident_id == Incident.id)  # its incident index
        where.append(sighted if f.has_match else ~sighted)
    where += _received(f, tz)
    if f.q:
        dialect = session.get_bind().dialect.name
        where.append(search.matches(f.q, dialect, reported_only=not staff))
    return where


def _constituency(session: Session, f: QueueFilter) -> list[ColumnElement[bool]]:
    """The organisation, sector and centre filters."""
    where: list[ColumnElement[bool]] = []
    if f.organisation:
        where.append(Incident.organisation_id.in_(_org_ids(Organisation.slug.in_(f.organisation))))
    if f.sector:
        where.append(Incident.organisation_id.in_(_org_ids(Organisation.sector.in_(f.sector))))
    if f.centre:
        where.append(Incident.centre_id.in_(centre_ids(session, f.centre)))
    return where


def _staff_filters(f: QueueFilter) -> None:
    """Who handles an incident and which reports matched intelligence are CERT-internal: a
    reporter filtering on them gets ``PermissionDenied`` naming the filter."""
    for name in ("assignee", "has_match"):
        if getattr(f, name) is not None:
            raise PermissionDenied(
                f"the {name} filter is for CERT staff", fields={name: "CERT staff only"}
            )


def _received(f: QueueFilter, tz: dt.tzinfo) -> list[ColumnElement[bool]]:
    """Bounds on ``received_at``: local days (``received_from``/``_to``, inclusive) and instants
    (``received_after`` inclusive, ``received_before`` exclusive)."""
    where = []
    if f.received_from is not None:
        where.append(Incident.received_at >= _midnight(f.received_from, tz))
    if f.received_to is not None:
        where.append(Incident.received_at < _midnight(f.received_to + dt.timedelta(days=1), tz))
    if f.received_after is not None:
        where.append(Incident.received_at >= f.received_after)
    if f.received_before is not None:
        where.append(Incident.received_at < f.received_before)
    return where


def centre_ids(session: Session, slugs: Iterable[str]) -> list[int]:
    """The ids of the centres ``slugs`` (lower case); ``ValidationFailed`` naming ``centre`` for
    one that does not exist. Centres are not secret (the national view lists them all): what a
    centre's filter shows is still only what :func:`incidents.access.visible` allows."""
    wanted = sorted(set(slugs))
    rows = session.execute(select(Centre.slug, Centre.id).where(Centre.slug.in_(wanted)))
    found = {str(slug): int(centre_id) for slug, centre_id in rows}
    unknown = [slug for slug in wanted if slug not in found]
    if unknown:
        raise ValidationFailed(
            "invalid filter", fields={"centre": f"unknown centre {unknown[0]!r}"}
        )
    return sorted(found.values())


def _org_ids(condition: ColumnElement[bool]) -> Select[int]:
    return select(Organisation.id).where(condition)


def _assignee(actor: Actor, assignee: str) -> ColumnElement[bool]:
    if assignee == "none":
        return Incident.assignee_id.is_(None)
    if assignee == "me":
        return Incident.assignee_id == actor.user_id
    if assignee.isascii() and assignee.isdigit():  # bounded by QueueFilter
        return Incident.assignee_id == int(assignee)
    by_email = select(User.id).where(func.lower(User.email) == assignee).scalar_subquery()
    return Incident.assignee_id == by_email


def _midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def _count(session: Session, where: list[ColumnElement[bool]], *, cap: int = COUNT_CAP) -> int:
    """The number of matching incidents, counting no further than ``cap + 1``."""
    capped = select(Incident.id).where(*where).limit(cap + 1).subquery()
    return session.scalar(select(func.count()).select_from(capped)) or 0


def _fetch(
    session: Session,
    f: QueueFilter,
    where: list[ColumnElement[bool]],
    cursor: Cursor | None,
    *,
    forward: bool,
    limit: int,
    offset: int = 0,
) -> list[Incident]:
    """The page's incidents, in two statements: the ids in the filter's order (narrow rows, so
    that sorting thousands of search matches reads no description), then those incidents with
    their organisation and assignee (and, in one more ``IN`` query, their observables)."""
    column = sort_column(f.sort_key)
    descending = f.descending == forward
    order: list[Any] = [column.desc(), Incident.id.desc()] if descending else [column, Incident.id]
    ids_query = select(Incident.id).where(*where)
    if f.sort_key == "organisation":
        ids_query = ids_query.join(Incident.organisation)
    if cursor is not None:
        ids_query = ids_query.where(beyond(cursor, forward=forward))
    ids_query = ids_query.order_by(*order).limit(limit)
    if offset:
        ids_query = ids_query.offset(offset)
    ids = list(session.scalars(ids_query))
    if not ids:
        return []
    query = (
        select(Incident)
        .join(Incident.organisation)
        .options(
            contains_eager(Incident.organisation),
            joinedload(Incident.assignee),
            selectinload(Incident.observables),
            selectinload(Incident.shares),  # the API answer's shares (staff), the access rule
        )
        .where(Incident.id.in_(ids))
    )
    found = {incident.id: incident for incident in session.scalars(query).unique()}
    return [found[incident_id] for incident_id in ids]


def _cursor_of(f: QueueFilter, incident: Incident) -> str:
    return Cursor(f.sort, sort_value(f.sort_key, incident), incident.id).encode()
