"""The dashboard's charts (pure, Flask-free): the figures of a :class:`Dashboard` as SVG charts
(drawn by :mod:`incidents.reporting.svg`), each with the same figures as a table and, for staff,
links to the filtered queue; numbers, dates and durations localised by :class:`Formats`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

from incidents.reporting import links
from incidents.reporting.dashboard import Dashboard, Group
from incidents.reporting.svg import (
    DEFAULT_COLOUR,
    PRIORITY_COLOURS,
    Bar,
    Series,
    colour_of,
    horizontal_bars,
    stacked_bars,
)
from incidents.rules import labels


# ---------------------------------------------------------------- the dashboard's charts
@dataclass(frozen=True)
class Chart:
    """A chart and the same figures as a table (header row, then rows) for screen readers."""

    ident: str
    title: str
    svg: Markup
    head: list[str]
    rows: list[list[str]]
    links: list[str | None] = field(default_factory=list)  # per row: the filtered queue


class Formats:
    """Localised numbers, percentages, durations and bucket dates (Babel, Flask-free)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._numbers: dict[float, str] = {}  # a page shows the same few counts many times

    def number(self, value: float) -> str:
        text = self._numbers.get(value)
        if text is None:
            text = format_decimal(value, format="#,##0.###", locale=self.locale)
            self._numbers[value] = text
        return text

    def percent(self, ratio: float | None) -> str:
        return "—" if ratio is None else format_percent(ratio, locale=self.locale)

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return format_timedelta(
            dt.timedelta(seconds=seconds), threshold=1.5, format="short", locale=self.locale
        )

    def hours(self, seconds: float | None) -> str:
        return "—" if seconds is None else self.number(round(seconds / 3600, 1))

    def bucket(self, start: dt.date, granularity: str) -> str:
        skeleton = "yMMM" if granularity == "month" else "MMMd"
        return format_skeleton(skeleton, start, locale=self.locale)


Link = Callable[[Mapping[str, str]], str]  # queue arguments → the address of the queue


def _no_link(_args: Mapping[str, str]) -> str | None:
    return None


def dashboard_charts(
    board: Dashboard,
    *,
    locale: str,
    _: Callable[[str], str],
    rtl: bool,
    staff: bool,
    link: Link | None = None,
) -> list[Chart]:
    """Every chart of the dashboard page, with its table, in display order; with ``link``
    (CERT staff: the queue is theirs), each bar, segment and table row links to the queue
    filtered on what it counts."""
    fmt = Formats(locale)
    to: Callable[[Mapping[str, str]], str | None] = link or _no_link
    charts = [_over_time(board, fmt, _, rtl, to), _open(board, fmt, _, rtl, to)]
    if staff:
        charts += [
            _groups(board, "organisation", _("Incidents by organisation"), fmt, _, rtl, to),
            _groups(board, "sector", _("Incidents by sector"), fmt, _, rtl, to),
        ]
    return [*charts, *_sla(board, fmt, _, rtl, to), *_times(board, fmt, _, rtl, to)]


def _over_time(
    board: Dashboard,
    fmt: Formats,
    _: Callable[[str], str],
    rtl: bool,
    to: Callable[[Mapping[str, str]], str | None],
) -> Chart:
    names = {c: _(labels.RSIT_CLASSES.get(c, (c, ""))[0]) for c in board.categories}
    series = [Series(c, names[c], colour_of(c)) for c in board.categories]
    columns = [fmt.bucket(b.start, board.granularity) for b in board.over_time]
    unit = {"day": _("Day"), "week": _("Week starting"), "month": _("Month")}[board.granularity]
    title = _("Incidents received over time, by RSIT class")
    ranges = [links.bucket_args(b.start, board.granularity, board.period) for b in board.over_time]
    hrefs = [
        {c: to({**days, "category": c, "sort": "-received"}) or "" for c in b.counts}
        for days, b in zip(ranges, board.over_time, strict=True)
    ]
    svg = stacked_bars(
        ident="over-time",
        title=title,
        desc=_("Stacked bars: incidents received per period, one colour per RSIT class."),
        x_label=unit,
        y_label=_("Incidents"),
        columns=columns,
        values=[b.counts for b in board.over_time],
        series=series,
        number=fmt.number,
        rtl=rtl,
        links=hrefs,
    )
    head = [unit, *names.values(), _("Total")]
    shown = [
        (column, b, days)
        for column, b, days in zip(columns, board.over_time, ranges, strict=True)
        if b.total
    ]
    rows = [
        [column, *(fmt.number(b.counts.get(c, 0)) for c in board.categories), fmt.number(b.total)]
        for column, b, _days in shown
    ]
    hrefs_rows = [to({**days, "sort": "-received"}) for *_x, days in shown]
    return Chart("over-time", title, svg, head, rows, hrefs_rows)


def _bars_chart(
    ident: str, title: str, x_label: str, bars: list[Bar], fmt: Formats, rtl: bool, **kw: Any
) -> Markup:
    return horizontal_bars(
        ident=ident, title=title, desc=title, x_label=x_label, bars=bars, number=fmt.number,
        rtl=rtl, **kw,
    )  # fmt: skip


def _open(
    board: Dashboard,
    fmt: Formats,
    _: Callable[[str], str],
    rtl: bool,
    to: Callable[[Mapping[str, str]], str | None],
) -> Chart:
    title = _("Open incidents by priority (now)")
    bars = [
        Bar(p, n, fmt.number(n), PRIORITY_COLOURS.get(p, DEFAULT_COLOUR), to(links.open_now(p)))
        for p, n in board.open_by_priority.items()
    ]
    svg = _bars_chart("open", title, _("Incidents"), bars, fmt, rtl)
    rows = [[b.label, b.text] for b in bars]
    return Chart("open", title, svg, [_("Priority"), _("Open")], rows, [b.href for b in bars])


def _groups(
    board: Dashboard,
    dimension: str,
    title: str,
    fmt: Formats,
    _: Callable[[str], str],
    rtl: bool,
    to: Callable[[Mapping[str, str]], str | None],
) -> Chart:
    groups = board.by_organisation if dimension == "organisation" else board.by_sector

    def name(group: Group) -> str:
        if group.name is None:
            return group.key or _("Not specified")
        latin, arabic = (group.name.split("\t") + [""])[:2]
        return arabic if rtl and arabic else latin

    def href(group: Group) -> str | None:
        if not group.key:  # no sector: the queue has no filter for it
            return None
        return to(links.in_period(board.period, **{dimension: group.key}))

    ident = "by-org" if dimension == "organisation" else "by-sector"
    shown = list(groups[:12])
    bars = [Bar(name(g), g.figures.count, fmt.number(g.figures.count), href=href(g)) for g in shown]
    rest = sum(g.figures.count for g in groups[12:])
    if rest:
        bars.append(Bar(_("Others"), rest, fmt.number(rest), "#999999"))
    svg = _bars_chart(ident, title, _("Incidents"), bars, fmt, rtl)
    rows = [[name(g), fmt.number(g.figures.count)] for g in groups]
    return Chart(ident, title, svg, [_("Name"), _("Incidents")], rows, [href(g) for g in groups])


def _sla(
    board: Dashboard,
    fmt: Formats,
    _: Callable[[str], str],
    rtl: bool,
    to: Callable[[Mapping[str, str]], str | None],
) -> list[Chart]:
    result = []
    for ident, title, met, decided in (
        ("sla-ack", _("Acknowledged on time, by priority"), "ack_met", "ack_decided"),
        ("sla-resolve", _("Resolved on time, by priority"), "resolve_met", "resolve_decided"),
    ):
        rows, bars = [], []
        for group in board.by_priority:
            done, due = getattr(group.figures, met), getattr(group.figures, decided)
            ratio = done / due if due else None
            colour = PRIORITY_COLOURS.get(group.key, DEFAULT_COLOUR)
            href = to(links.in_period(board.period, priority=group.key))
            bars.append(Bar(group.key, (ratio or 0) * 100, fmt.percent(ratio), colour, href))
            rows.append([group.key, fmt.number(done), fmt.number(due), fmt.percent(ratio)])
        svg = _bars_chart(ident, title, _("% within the SLA"), bars, fmt, rtl, maximum=100)
        head = [_("Priority"), _("Met"), _("Met, missed or overdue"), _("Compliance")]
        result.append(Chart(ident, title, svg, head, rows, [b.href for b in bars]))
    return result


def _times(
    board: Dashboard,
    fmt: Formats,
    _: Callable[[str], str],
    rtl: bool,
    to: Callable[[Mapping[str, str]], str | None],
) -> list[Chart]:
    result = []
    for ident, title, mean, count in (
        ("mtta", _("Mean time to acknowledge (MTTA), by priority"), "mtta", "acknowledged"),
        ("mttr", _("Mean time to resolve (MTTR), by priority"), "mttr", "resolved"),
    ):
        longest = max((getattr(g.figures, mean) or 0 for g in board.by_priority), default=0)
        unit, axis = (3600, _("Hours")) if longest >= 2 * 3600 else (60, _("Minutes"))
        rows, bars = [], []
        for group in board.by_priority:
            seconds = getattr(group.figures, mean)
            colour = PRIORITY_COLOURS.get(group.key, DEFAULT_COLOUR)
            href = to(links.in_period(board.period, priority=group.key))
            bars.append(Bar(group.key, (seconds or 0) / unit, fmt.duration(seconds), colour, href))
            n = getattr(group.figures, count)
            rows.append([group.key, fmt.number(n), fmt.hours(seconds), fmt.duration(seconds)])
        svg = _bars_chart(ident, title, axis, bars, fmt, rtl, integer=False)
        head = [_("Priority"), _("Incidents"), _("Hours"), _("Mean")]
        result.append(Chart(ident, title, svg, head, rows, [b.href for b in bars]))
    return result
