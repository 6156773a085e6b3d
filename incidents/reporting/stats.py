"""Periodic statistics for the national report (Flask-free): counts by RSIT class, sector,
priority and month with MTTA and MTTR, as CSV and JSON.

The figures come from the dashboard's SQL functions (:mod:`incidents.reporting.dashboard`), so a
report and the dashboard over the same period always agree. Keys are stable identifiers (RSIT ids,
``P1``…, sectors, ``YYYY-MM``), not translated names: the report is a data file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.identity.centres import Centre
from incidents.reporting.dashboard import Figures, Group, Period, breakdown, roll_up, total

DIMENSIONS = ("category", "sector", "priority", "month", "centre")  # centre: national only
CSV_COLUMNS = (
    "dimension",
    "key",
    "incidents",
    "acknowledged",
    "mtta_seconds",
    "mtta",
    "resolved",
    "mttr_seconds",
    "mttr",
    "ack_sla_compliance",
    "resolve_sla_compliance",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass(frozen=True)
class Statistics:
    period: Period
    generated_at: dt.datetime
    overall: Figures
    groups: dict[str, list[Group]]  # dimension → groups
    centre: str | None = None  # one centre's statistics: its slug


def statistics(
    session: Session,
    actor: Actor,
    period: Period,
    *,
    now: dt.datetime,
    centre: Centre | None = None,
) -> Statistics:
    """The national-report figures of ``period`` as ``actor`` may see them (four queries); of
    one ``centre``'s incidents when given."""
    of = centre.id if centre is not None else None
    by_day = breakdown(session, actor, period, "day", now=now, centre=of)
    months = [Group(group.key[:7], group.figures) for group in roll_up(by_day, granularity="month")]
    groups = {
        dimension: breakdown(session, actor, period, dimension, now=now, centre=of)
        for dimension in ("category", "sector", "priority")
    }
    groups["month"] = months
    if centre is None:  # the national report: per centre too
        groups["centre"] = breakdown(session, actor, period, "centre", now=now)
    slug = centre.slug if centre is not None else None
    return Statistics(period, now, total(by_day), groups, slug)


def human_duration(seconds: float | None) -> str:
    """``2d 3h``, ``4h 05m``, ``12m``, ``45s``: a compact, language-neutral duration."""
    if seconds is None:
        return ""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def figures_json(figures: Figures) -> dict[str, Any]:
    return {
        "incidents": figures.count,
        "acknowledged": figures.acknowledged,
        "mtta_seconds": _seconds(figures.mtta),
        "mtta": human_duration(figures.mtta),
        "resolved": figures.resolved,
        "mttr_seconds": _seconds(figures.mttr),
        "mttr": human_duration(figures.mttr),
        "ack_sla_compliance": _ratio(figures.ack_compliance),
        "resolve_sla_compliance": _ratio(figures.resolve_compliance),
    }


def as_json(stats: Statistics) -> dict[str, Any]:
    return {
        "period": {
            "from": stats.period.first.isoformat(),
            "to": stats.period.last.isoformat(),
            "timezone": stats.period.zone,
        },
        "generated_at": stats.generated_at.isoformat(),
        "centre": stats.centre,
        "total": figures_json(stats.overall),
        **{
            f"by_{dimension}": [
                {"key": group.key or None, **figures_json(group.figures)} for group in groups
            ]
            for dimension, groups in stats.groups.items()
        },
    }


def safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet never runs as a formula (OWASP: prefix with a quote)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_rows(stats: Statistics) -> list[list[object]]:
    """Header, one ``total`` row, then one row per dimension and key."""
    rows: list[list[object]] = [list(CSV_COLUMNS)]
    lines = [("total", "", stats.overall)] + [
        (dimension, group.key, group.figures)
        for dimension, groups in stats.groups.items()
        for group in groups
    ]
    for dimension, key, figures in lines:
        data = figures_json(figures)
        row = [dimension, key, *(data[column] for column in CSV_COLUMNS[2:])]
        rows.append([safe_cell("" if cell is None else cell) for cell in row])
    return rows


def as_csv(stats: Statistics) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(stats))
    return out.getvalue()
