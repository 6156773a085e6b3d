"""The dashboard's figures read from the daily aggregate (:mod:`incidents.daily`), Flask-free.

The aggregate answers for whole local days, for the incidents a reader sees as a whole:

* leads, admins and the system: every row; reporters: their organisation's rows;
* analysts: the rows of incidents that are not ``TLP:RED`` — of their centres' for an analyst
  who works some centres only (``Actor.centres``; every centre for the national centre's
  members). What else they may see is read live from the incidents
  (:func:`incidents.access.visible`): the ``TLP:RED`` incidents they are named on (few: 5 % of
  them, and an analyst sees only theirs) and, for a centre's analyst, the incidents of other
  centres shared with theirs or that they are named on — found from the shares and their
  names, not by reading the period;
* ``centre``: one centre's rows only (its dashboard), the live parts likewise.

What depends on the clock is read live too: acknowledgements and resolutions not done but past
due count as *decided* for SLA compliance, from the incidents not acknowledged (not resolved)
yet, through the partial indexes ``ix_incidents_unacknowledged`` and ``ix_incidents_unresolved``.

The result is the same as computing every incident's measures
(:func:`incidents.reporting.measures.measures`): ``tests/incidents/reporting/test_daily.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, text, true, union
from sqlalchemy.orm import Session

from core.db import ids_first
from core.identity.authz import Actor
from incidents.access import RED, sees_all_red, visible
from incidents.daily import IncidentDaily, IncidentDailyClass, zone_of
from incidents.models import UNRESOLVED, Incident, IncidentParticipant, IncidentShare
from incidents.reporting.measures import MEASURES, Figures, figures_of, measures
from incidents.reporting.periods import Period, local_day, next_bucket

D = IncidentDaily
C = IncidentDailyClass


def usable(session: Session, period: Period) -> bool:
    """The aggregate is built for the period's time zone."""
    return zone_of(session.connection()) == period.zone


def serves(actor: Actor) -> bool:
    """Whether the aggregate serves ``actor``'s dashboard: those who see every centre (leads,
    admins, the national centre, the system) and reporters (their organisation's rows). The
    dashboard of an analyst of a sectoral centre is computed live from the incidents they see
    (:func:`incidents.access.visible`): their view mixes their centres' incidents with shared
    and assigned ones of other centres, which per-centre rows cannot tell apart cheaply."""
    return not actor.is_cert_staff or actor.centres is None or sees_all_red(actor)


def _whole(actor: Actor) -> bool:
    """The aggregate covers everything ``actor`` sees (no live part)."""
    return not actor.is_cert_staff or sees_all_red(actor)


def rows_scope(actor: Actor, centre: int | None = None, table: Any = D) -> ColumnElement[bool]:
    """The aggregate's rows ``actor`` sees whole (of ``table``: :class:`IncidentDaily` or
    :class:`IncidentDailyClass`), of one ``centre`` when given."""
    where: list[ColumnElement[bool]] = []
    if centre is not None:
        where.append(table.centre_id == centre)
    if not actor.is_cert_staff:
        if actor.organisation_id is None:
            return false()
        where.append(table.organisation_id == actor.organisation_id)
    elif not sees_all_red(actor):
        where.append(table.red.is_(False))
        if actor.centres is not None:
            where.append(table.centre_id.in_(sorted(actor.centres)))
    return and_(true(), *where)


def incidents_scope(actor: Actor, centre: int | None = None) -> ColumnElement[bool]:
    """The same incidents as :func:`rows_scope`, on :class:`Incident`."""
    where = [] if centre is None else [Incident.centre_id == centre]
    if not actor.is_cert_staff or sees_all_red(actor):
        return and_(visible(actor), *where)
    if actor.centres is not None:
        where.append(Incident.centre_id.in_(sorted(actor.centres)))
    return and_(Incident.tlp != RED, *where)


def spans(period: Period) -> ColumnElement[bool]:
    """The rows that add up to the period: its whole months' month rows, the day rows of the
    days before the first whole month and after the last one (all day rows without one)."""
    first_month = period.first if period.first.day == 1 else next_bucket(period.first, "month")
    end_month = next_bucket(period.last, "month")  # the month after the one of ``last``
    if period.last != end_month - dt.timedelta(days=1):
        end_month = period.last.replace(day=1)  # the last month is not whole
    if first_month >= end_month:
        return and_(D.month.is_(False), D.start >= period.first, D.start <= period.last)
    return or_(
        and_(D.month.is_(True), D.start >= first_month, D.start < end_month),
        and_(D.month.is_(False), D.start >= period.first, D.start < first_month),
        and_(D.month.is_(False), D.start >= end_month, D.start <= period.last),
    )


def received(period: Period) -> list[ColumnElement[bool]]:
    return [Incident.received_at >= period.start, Incident.received_at < period.end]


def live_scope(actor: Actor, period: Period) -> list[ColumnElement[bool]] | None:
    """What ``actor`` sees beyond the aggregate among the incidents received in ``period``, on
    :class:`Incident` (``None``: nothing)."""
    return None if _whole(actor) else _live_red(actor, period)


def _live_red(actor: Actor, period: Period, centre: int | None = None) -> list[ColumnElement[bool]]:
    """What ``actor`` sees beyond the aggregate's rows (:func:`rows_scope`) among the incidents
    received in ``period``: ``TLP:RED`` incidents they are named on; for a centre's analyst also
    other centres' incidents shared with theirs or that they are named on — candidates found by
    the shares' and the participants' indexes and the assignee index, then checked by
    :func:`visible`."""
    where = [visible(actor), *received(period)]
    if centre is not None:
        where.append(Incident.centre_id == centre)
    if actor.centres is None:
        # the ids first, from ix_incidents_tlp_received alone (tlp, received_at, assignee_id,
        # id: what visible() reads), then those rows only: reading every TLP:RED row of the
        # period to keep the ones the actor is named on cost 21,000 heap pages for a year at
        # 1,000,000 incidents (25,000 rows read, 2,800 kept)
        # (ids_first: with ``id IN (…)`` PostgreSQL hash-joined those ids to a scan of every
        # incident, 157 ms for a year at 1M)
        return [ids_first(Incident.id, select(Incident.id).where(Incident.tlp == RED, *where))]
    mine = sorted(actor.centres)
    candidates = union(
        select(IncidentShare.incident_id).where(IncidentShare.centre_id.in_(mine)),
        select(IncidentParticipant.incident_id).where(IncidentParticipant.user_id == actor.user_id),
        select(Incident.id).where(Incident.assignee_id == actor.user_id),
    )
    outside = or_(Incident.tlp == RED, Incident.centre_id.not_in(mine))
    return [Incident.id.in_(candidates), outside, *where]


# ---------------------------------------------------------------- over time
def day_counts(
    session: Session, actor: Actor, period: Period, centre: int | None = None
) -> Iterator[tuple[dt.date, str, int]]:
    """Incidents received per local day and RSIT class (days without any left out): CERT
    staff from the aggregate (analysts: with their TLP:RED incidents live); a reporter's, their
    organisation's few, live (``ix_incidents_org_received``)."""
    if not actor.is_cert_staff:
        scope = [incidents_scope(actor, centre), *received(period)]
        yield from _live_day_counts(session, period, scope)
        return
    query = (
        select(C.day, C.category, func.sum(C.incidents))
        .where(C.day >= period.first, C.day <= period.last, rows_scope(actor, centre, C))
        .group_by(C.day, C.category)
    )
    for day, category, count in session.execute(query):
        if count:
            yield _date(day), str(category), int(count)
    if not _whole(actor):
        yield from _live_day_counts(session, period, _live_red(actor, period, centre))


def _live_day_counts(
    session: Session, period: Period, where: list[ColumnElement[bool]]
) -> Iterator[tuple[dt.date, str, int]]:
    """Per local day and class, the incidents matching ``where`` (received in ``period``)."""
    local = local_day(session, Incident.received_at, period).label("day")
    inner = select(local, Incident.category.label("category")).where(*where)
    rows = inner.subquery("rows")
    live = select(rows.c.day, rows.c.category, func.count()).group_by(rows.c.day, rows.c.category)
    for day_text, category, count in session.execute(live):
        yield dt.date.fromisoformat(str(day_text)), str(category), int(count)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# ---------------------------------------------------- figures per priority × organisation
Groups = dict[tuple[str, int], Figures]


def priority_organisation_figures(
    session: Session, actor: Actor, period: Period, *, now: dt.datetime, centre: int | None = None
) -> Groups:
    """Figures per (priority, organisation id) of the incidents received in the period."""
    found: Groups = {}
    query = (
        select(
            D.priority,
            D.organisation_id,
            *(
                func.sum(column)
                for column in (
                    D.incidents,
                    D.acknowledged,
                    D.ack_ms,
                    D.resolved,
                    D.resolve_ms,
                    D.ack_met,
                    D.resolve_met,
                )
            ),  # fmt: skip
        )
        .where(rows_scope(actor, centre), spans(period))
        .group_by(D.priority, D.organisation_id)
    )
    for row in session.execute(query):
        values: tuple[Any, ...] = tuple(row)
        priority, org, count, acked, ack_ms, resolved, resolve_ms, ack_met, res_met = values
        figures = Figures(
            count=int(count or 0),
            acknowledged=int(acked or 0),
            ack_seconds=int(ack_ms or 0) / 1000,
            resolved=int(resolved or 0),
            resolve_seconds=int(resolve_ms or 0) / 1000,
            ack_decided=int(acked or 0),
            ack_met=int(ack_met or 0),
            resolve_decided=int(resolved or 0),
            resolve_met=int(res_met or 0),
        )
        _add(found, (str(priority), int(org)), figures)
    for (priority, org), ack_due, resolve_due in _overdue(session, actor, period, now, centre):
        _add(found, (priority, org), Figures(ack_decided=ack_due, resolve_decided=resolve_due))
    if not _whole(actor):
        for key, figures in _live_red_figures(session, actor, period, now, centre):
            _add(found, key, figures)
    return {key: figures for key, figures in found.items() if figures.count}


def _add(into: Groups, key: tuple[str, int], figures: Figures) -> None:
    into[key] = into.get(key, Figures()) + figures


def _overdue(
    session: Session, actor: Actor, period: Period, now: dt.datetime, centre: int | None
) -> Iterator[tuple[tuple[str, int], int, int]]:
    """Per (priority, organisation): acknowledgements, then resolutions, not done but due
    before ``now`` (the aggregate's incidents only)."""
    scope = [incidents_scope(actor, centre), *received(period)]
    ack = (
        select(Incident.priority, Incident.organisation_id, func.count())
        .where(Incident.acknowledged_at.is_(None), Incident.ack_due_at < now, *scope)
        .group_by(Incident.priority, Incident.organisation_id)
    )
    for priority, org, count in session.execute(ack):
        yield (str(priority), int(org)), int(count), 0
    resolve = (
        select(Incident.priority, Incident.organisation_id, func.count())
        .where(text(UNRESOLVED), Incident.resolve_due_at < now, *scope)
        .group_by(Incident.priority, Incident.organisation_id)
    )
    for priority, org, count in session.execute(resolve):
        yield (str(priority), int(org)), 0, int(count)


def _live_red_figures(
    session: Session, actor: Actor, period: Period, now: dt.datetime, centre: int | None
) -> Iterator[tuple[tuple[str, int], Figures]]:
    inner = select(
        Incident.priority.label("priority"),
        Incident.organisation_id.label("organisation_id"),
        *measures(session, now),
    ).where(*_live_red(actor, period, centre))
    rows = inner.subquery("rows")
    query = select(
        rows.c.priority, rows.c.organisation_id, *(func.sum(rows.c[m]) for m in MEASURES)
    ).group_by(rows.c.priority, rows.c.organisation_id)
    for priority, org, *sums in session.execute(query):
        yield (str(priority), int(org)), figures_of(sums)
