"""Dashboard figures (read side, Flask-free): counts, SLA compliance, MTTA and MTTR over a period.

Every figure is aggregated in SQL (``GROUP BY``), never by loading incidents, and only over the
incidents the actor may see (:func:`incidents.access.visible`): an analyst's figures leave out the
``TLP:RED`` incidents they are not named on, a reporter's cover their organisation only.

A period is a range of *local* dates (the CERT's time zone) turned into a half-open UTC range on
``received_at`` (``ix_incidents_received_at``; ``ix_incidents_org_received`` for reporters).
Counts over time are grouped per local day in SQL — PostgreSQL converts with ``AT TIME ZONE``;
SQLite (which stores naive UTC text, ``2026-01-15 22:30:00.000000``) shifts by the zone's UTC
offsets over the period, computed here from ``zoneinfo`` — then days are summed into weeks or
months in Python (at most one row per day and class).

Definitions:
* MTTA: mean of ``acknowledged_at - received_at`` over acknowledged incidents; MTTR: mean of
  ``resolved_at - received_at`` over resolved ones.
* SLA compliance: met / decided, where an acknowledgement (resolution) is *decided* once it is
  done or its due date has passed, and *met* when done by the due date. Rejected and duplicate
  reports have no resolution to meet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from cert.auth.authz import Actor
from cert.auth.models import Organisation
from cert.db import is_postgres
from cert.errors import ValidationFailed
from incidents.access import visible
from incidents.models import OPEN_STATUSES, Incident, IncidentStatus
from incidents.taxonomy import rsit_classes
from incidents.triage import Priority

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")
MAX_DAYS = 1096  # three years of daily rows at most
NO_SECTOR = ""  # organisations without a sector
PRIORITIES = tuple(p.value for p in Priority)
_NO_RESOLUTION = (IncidentStatus.REJECTED.value, IncidentStatus.DUPLICATE.value)


# ---------------------------------------------------------------- periods
@dataclass(frozen=True)
class Period:
    """Local dates ``first``..``last`` (both included) in time zone ``zone``."""

    first: dt.date
    last: dt.date
    zone: str

    @property
    def start(self) -> dt.datetime:
        """The first instant, in UTC."""
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> dt.datetime:
        """The instant after the period (exclusive), in UTC."""
        return _midnight(self.last + dt.timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def auto_granularity(self) -> Granularity:
        if self.days <= 62:
            return "day"
        return "week" if self.days <= 190 else "month"

    @classmethod
    def last_days(cls, days: int, *, now: dt.datetime, zone: str) -> Period:
        """The ``days`` local days ending today."""
        today = now.astimezone(ZoneInfo(zone)).date()
        return cls(today - dt.timedelta(days=days - 1), today, zone)


def _midnight(day: dt.date, zone: str) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def parse_period(first: str | None, last: str | None, *, zone: str) -> Period:
    """``YYYY-MM-DD`` dates (both included) → :class:`Period`; ``ValidationFailed`` naming
    ``from`` / ``to`` when missing, malformed, reversed or longer than :data:`MAX_DAYS`."""
    errors: dict[str, str] = {}
    dates: dict[str, dt.date] = {}
    for name, value in (("from", first), ("to", last)):
        if not value:
            errors[name] = "required (YYYY-MM-DD)"
            continue
        try:
            dates[name] = dt.date.fromisoformat(value.strip())
        except ValueError:
            errors[name] = f"not a date: {value[:40]!r} (expected YYYY-MM-DD)"
    if not errors:
        if dates["to"] < dates["from"]:
            errors["to"] = "must not be before from"
        elif (dates["to"] - dates["from"]).days + 1 > MAX_DAYS:
            errors["to"] = f"the period may cover at most {MAX_DAYS} days"
    if errors:
        raise ValidationFailed("invalid period", fields=errors)
    return Period(dates["from"], dates["to"], zone)


# ---------------------------------------------------------------- figures
@dataclass(frozen=True)
class Figures:
    """Counts and sums of one group; ratios and means as properties (``None`` when empty)."""

    count: int = 0
    acknowledged: int = 0
    ack_seconds: float = 0.0
    resolved: int = 0
    resolve_seconds: float = 0.0
    ack_decided: int = 0
    ack_met: int = 0
    resolve_decided: int = 0
    resolve_met: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))

    @property
    def mtta(self) -> float | None:
        return self.ack_seconds / self.acknowledged if self.acknowledged else None

    @property
    def mttr(self) -> float | None:
        return self.resolve_seconds / self.resolved if self.resolved else None

    @property
    def ack_compliance(self) -> float | None:
        return self.ack_met / self.ack_decided if self.ack_decided else None

    @property
    def resolve_compliance(self) -> float | None:
        return self.resolve_met / self.resolve_decided if self.resolve_decided else None


def _values(figures: Figures) -> tuple[Any, ...]:
    return tuple(getattr(figures, name) for name in Figures.__dataclass_fields__)


@dataclass(frozen=True)
class Group:
    key: str
    figures: Figures
    name: str | None = None  # organisations: display names (``name_ar`` after a tab)


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in seconds (dialect-specific: marked)."""
    if is_postgres(session):
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def local_day(session: Session, column: Any, period: Period) -> ColumnElement[str]:
    """``YYYY-MM-DD`` of ``column`` in the period's zone (dialect-specific: marked)."""
    if is_postgres(session):
        return func.to_char(func.timezone(period.zone, column), "YYYY-MM-DD")
    changes = offset_changes(period)
    first = _modifier(changes[0][1])
    if len(changes) == 1:
        return func.date(column, first)
    whens = [(column < at, _modifier(before)) for (_, before), (at, _) in _pairs(changes)]
    return func.date(column, case(*whens, else_=_modifier(changes[-1][1])))


def _modifier(offset: int) -> str:
    return f"{offset:+d} seconds"


def _pairs(changes: list[tuple[dt.datetime, int]]) -> Iterable[Any]:
    return zip(changes, changes[1:], strict=False)


def offset_changes(period: Period) -> list[tuple[dt.datetime, int]]:
    """``[(from instant, UTC offset in seconds)]`` of the zone over the period (first = start)."""
    zone = ZoneInfo(period.zone)

    def offset(at: dt.datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    changes = [(period.start, offset(period.start))]
    at = period.start
    while at < period.end:
        step = min(at + dt.timedelta(days=1), period.end)
        if offset(step) != changes[-1][1]:
            low, high = at, step  # offset(low) is the old one: find the first new instant
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append((high.replace(microsecond=0), offset(step)))
        at = step
    return changes


def _measures(session: Session, now: dt.datetime) -> list[ColumnElement[Any]]:
    """Per-incident measures summed by :func:`_aggregate` (0/1 flags and seconds)."""
    acked, resolved, received = Incident.acknowledged_at, Incident.resolved_at, Incident.received_at
    resolvable = Incident.status.not_in(_NO_RESOLUTION)
    flag = _flag
    return [
        literal(1).label("count"),
        flag(acked.is_not(None)).label("acknowledged"),
        func.coalesce(seconds_between(session, acked, received), 0).label("ack_s"),
        flag(and_(resolved.is_not(None), resolvable)).label("resolved"),
        case(
            (
                resolvable,
                func.coalesce(seconds_between(session, resolved, Incident.received_at), 0),
            ),
            else_=0,
        ).label("resolve_s"),
        flag(or_(acked.is_not(None), Incident.ack_due_at < now)).label("ack_decided"),
        flag(and_(acked.is_not(None), acked <= Incident.ack_due_at)).label("ack_met"),
        flag(and_(resolvable, or_(resolved.is_not(None), Incident.resolve_due_at < now))).label(
            "resolve_decided"
        ),
        flag(and_(resolvable, resolved.is_not(None), resolved <= Incident.resolve_due_at)).label(
            "resolve_met"
        ),
    ]


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


MEASURES = (
    "count", "acknowledged", "ack_s", "resolved", "resolve_s",
    "ack_decided", "ack_met", "resolve_decided", "resolve_met",
)  # fmt: skip


def _aggregate(
    session: Session,
    actor: Actor,
    keys: Sequence[Any],
    *,
    now: dt.datetime,
    where: Sequence[ColumnElement[bool]],
    join_organisation: bool = False,
) -> list[tuple[tuple[Any, ...], Figures]]:
    """One ``GROUP BY keys`` query over the visible incidents matching ``where``.

    The per-row keys and measures sit in a subquery grouped outside, so that expressions with
    bound parameters (time zone, offsets) are grouped by name on every backend.
    """
    names = [f"k{i}" for i in range(len(keys))]
    inner: Select[Any] = select(
        *(key.label(name) for key, name in zip(keys, names, strict=True)), *_measures(session, now)
    ).where(visible(actor), *where)
    if join_organisation:
        inner = inner.join(Organisation, Organisation.id == Incident.organisation_id)
    rows = inner.subquery("rows")
    group = [rows.c[name] for name in names]
    query = select(*group, *(func.sum(rows.c[m]) for m in MEASURES)).group_by(*group)
    result = []
    for row in session.execute(query):
        sums = row[len(names) :]
        figures = Figures(
            int(sums[0] or 0), int(sums[1] or 0), float(sums[2] or 0), int(sums[3] or 0),
            float(sums[4] or 0), int(sums[5] or 0), int(sums[6] or 0), int(sums[7] or 0),
            int(sums[8] or 0),
        )  # fmt: skip
        result.append((tuple(row[: len(names)]), figures))
    return result


def _in_period(period: Period) -> list[ColumnElement[bool]]:
    return [Incident.received_at >= period.start, Incident.received_at < period.end]


def breakdown(
    session: Session, actor: Actor, period: Period, dimension: str, *, now: dt.datetime
) -> list[Group]:
    """Figures per ``category``, ``priority``, ``sector``, ``organisation`` or local ``day``,
    largest count first (days and priorities in their natural order)."""
    if dimension == "organisation":
        return _by_organisation(session, actor, period, now=now)
    keys: dict[str, Any] = {
        "category": Incident.category,
        "priority": Incident.priority,
        "sector": func.coalesce(Organisation.sector, NO_SECTOR),
        "day": local_day(session, Incident.received_at, period),
    }
    if dimension not in keys:
        raise ValueError(f"unknown dimension {dimension!r}")
    rows = _aggregate(
        session,
        actor,
        [keys[dimension]],
        now=now,
        where=_in_period(period),
        join_organisation=dimension == "sector",
    )
    groups = [Group(str(key[0]), figures) for key, figures in rows]
    if dimension in {"day", "priority"}:
        return sorted(groups, key=lambda g: g.key)
    return sorted(groups, key=lambda g: (-g.figures.count, g.key))


def _by_organisation(
    session: Session, actor: Actor, period: Period, *, now: dt.datetime
) -> list[Group]:
    keys = [Organisation.slug, Organisation.name, func.coalesce(Organisation.name_ar, "")]
    rows = _aggregate(
        session, actor, keys, now=now, where=_in_period(period), join_organisation=True
    )
    groups = [Group(slug, figures, f"{name}\t{name_ar}") for (slug, name, name_ar), figures in rows]
    return sorted(groups, key=lambda g: (-g.figures.count, g.key))


def total(groups: Iterable[Group]) -> Figures:
    return sum((g.figures for g in groups), Figures())


# ---------------------------------------------------------------- over time
@dataclass(frozen=True)
class Bucket:
    start: dt.date  # first day of the day, week (Monday) or month
    counts: dict[str, int] = field(default_factory=dict)  # RSIT class id → incidents

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def bucket_start(day: dt.date, granularity: Granularity) -> dt.date:
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def over_time(
    session: Session, actor: Actor, period: Period, granularity: Granularity
) -> list[Bucket]:
    """Incidents received per day, week or month and RSIT class; every bucket of the period is
    listed, empty ones included."""
    day = local_day(session, Incident.received_at, period).label("day")
    inner = select(day, Incident.category.label("category")).where(
        visible(actor), *_in_period(period)
    )
    rows = inner.subquery("rows")
    query = select(rows.c.day, rows.c.category, func.count()).group_by(rows.c.day, rows.c.category)
    buckets: dict[dt.date, dict[str, int]] = {}
    cursor = bucket_start(period.first, granularity)
    while cursor <= period.last:
        buckets[cursor] = {}
        cursor = _next_bucket(cursor, granularity)
    for day_text, category, count in session.execute(query):
        start = bucket_start(dt.date.fromisoformat(str(day_text)), granularity)
        counts = buckets.setdefault(start, {})
        counts[category] = counts.get(category, 0) + int(count)
    return [Bucket(start, counts) for start, counts in sorted(buckets.items())]


def _next_bucket(start: dt.date, granularity: Granularity) -> dt.date:
    if granularity == "day":
        return start + dt.timedelta(days=1)
    if granularity == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def roll_up(days: Iterable[Group], granularity: Granularity) -> list[Group]:
    """Per-day groups summed into weeks or months (keys become the bucket's first day)."""
    merged: dict[str, Figures] = {}
    for group in days:
        key = bucket_start(dt.date.fromisoformat(group.key), granularity).isoformat()
        merged[key] = merged.get(key, Figures()) + group.figures
    return [Group(key, figures) for key, figures in sorted(merged.items())]


def open_by_priority(session: Session, actor: Actor) -> dict[str, int]:
    """Incidents open now (whatever the period) per priority (``ix_incidents_status_priority``)."""
    query = (
        select(Incident.priority, func.count())
        .where(visible(actor), Incident.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(Incident.priority)
    )
    found = {str(p): int(n) for p, n in session.execute(query)}
    return {p: found.get(p, 0) for p in sorted({*PRIORITIES, *found})}


# ---------------------------------------------------------------- the whole dashboard
@dataclass(frozen=True)
class Dashboard:
    period: Period
    granularity: Granularity
    over_time: list[Bucket]
    categories: list[str]  # RSIT classes present, in taxonomy order
    by_organisation: list[Group]
    by_sector: list[Group]
    by_priority: list[Group]  # received in the period: SLA, MTTA, MTTR per priority
    open_by_priority: dict[str, int]
    overall: Figures


def dashboard(
    session: Session,
    actor: Actor,
    period: Period,
    *,
    now: dt.datetime,
    granularity: Granularity | None = None,
) -> Dashboard:
    """Every figure of the dashboard in a fixed number of queries (five)."""
    chosen = granularity or period.auto_granularity()
    series = over_time(session, actor, period, chosen)
    present = {category for bucket in series for category in bucket.counts}
    by_priority = breakdown(session, actor, period, "priority", now=now)
    return Dashboard(
        period=period,
        granularity=chosen,
        over_time=series,
        categories=ordered_categories(present),
        by_organisation=breakdown(session, actor, period, "organisation", now=now),
        by_sector=breakdown(session, actor, period, "sector", now=now),
        by_priority=by_priority,
        open_by_priority=open_by_priority(session, actor),
        overall=total(by_priority),
    )


def ordered_categories(present: Iterable[str]) -> list[str]:
    order = list(rsit_classes())
    return sorted(present, key=lambda c: (order.index(c) if c in order else len(order), c))
