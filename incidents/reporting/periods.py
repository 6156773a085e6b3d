"""Reporting periods and time buckets (Flask-free), shared by the dashboard and the statistics.

A period is a range of *local* dates (the CERT's time zone) turned into a half-open UTC range on
``received_at``. Counts over time are grouped per local day in SQL (:func:`local_day`) —
PostgreSQL converts with ``AT TIME ZONE``; SQLite (which stores naive UTC text,
``2026-01-15 22:30:00.000000``) shifts by the zone's UTC offsets over the period, computed here
from ``zoneinfo`` (:func:`offset_changes`) — then days are summed into weeks or months in Python
(:func:`bucket_start`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func
from sqlalchemy.orm import Session

from core import inputs
from core.db import is_postgres
from core.errors import ValidationFailed, reason_of
from core.i18n import N_

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")
MAX_DAYS = 1096  # three years of daily rows at most


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
            errors[name] = N_("required (YYYY-MM-DD)")
            continue
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            errors[name] = N_("not a date: %(value)s (expected YYYY-MM-DD)", value=repr(value[:40]))
            continue
        try:
            dates[name] = inputs.day(day)  # 9999-12-31 has no next midnight: bounded
        except ValueError as exc:
            errors[name] = reason_of(exc)
    if not errors:
        if dates["to"] < dates["from"]:
            errors["to"] = N_("must not be before the first day")
        elif (dates["to"] - dates["from"]).days + 1 > MAX_DAYS:
            errors["to"] = N_("the period may cover at most %(days)d days", days=MAX_DAYS)
    if errors:
        raise ValidationFailed("invalid period", fields=errors)
    return Period(dates["from"], dates["to"], zone)


# ---------------------------------------------------------------- local days in SQL
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


# ---------------------------------------------------------------- buckets
def bucket_start(day: dt.date, granularity: Granularity) -> dt.date:
    """The first day of the day, week (Monday) or month that contains ``day``."""
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: dt.date, granularity: Granularity) -> dt.date:
    """The start of the bucket after the one starting on ``start``."""
    if granularity == "day":
        return start + dt.timedelta(days=1)
    if granularity == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
