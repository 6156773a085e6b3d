"""Server-side SVG charts (pure, Flask-free): no script, no CDN, inline in the page.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``; every bar has a
``<title>`` (tooltip and accessible name) and the pages print the same figures in a table under
the chart. Right-to-left pages get a mirrored chart: x coordinates are flipped and the SVG's
``direction="rtl"`` makes the logical text anchors (``start``/``end``) follow.

Callers pass display strings already translated and localised (labels, numbers).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup, escape

from incidents.reporting import links
from incidents.reporting.dashboard import Dashboard, Group
from incidents.rules import labels

WIDTH = 720  # full-width charts (over time)
BAR_WIDTH = 400  # half-width charts (horizontal bars): text stays legible when scaled down
FONT = 12
CHAR = 6.6  # average glyph width at FONT px, to lay out labels
LABEL_LINES = 3  # a bar's name wraps on up to three lines
# Colours per RSIT class (Okabe-Ito and Paul Tol palettes, distinguishable with colour-blindness).
CLASS_COLOURS = {
    "abusive-content": "#CC79A7",
    "malicious-code": "#D55E00",
    "information-gathering": "#56B4E9",
    "intrusion-attempts": "#E69F00",
    "intrusions": "#882255",
    "availability": "#0072B2",
    "information-content-security": "#117733",
    "fraud": "#AA4499",
    "vulnerable": "#44AA99",
    "other": "#888888",
    "test": "#BBBBBB",
}
DEFAULT_COLOUR = "#3B5B92"
GRID, AXIS, INK = "#DDDDDD", "#555555", "#212529"  # presentation attributes: the CSP forbids style=
PRIORITY_COLOURS = {"P1": "#B2182B", "P2": "#EF8A62", "P3": "#67A9CF", "P4": "#2166AC"}


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown (localised)
    colour: str = DEFAULT_COLOUR
    href: str | None = None  # the queue filtered on what the bar counts


def colour_of(category: str) -> str:
    return CLASS_COLOURS.get(category, DEFAULT_COLOUR)


class _Canvas:
    """SVG elements with x mirrored for right-to-left pages."""

    def __init__(self, width: float, rtl: bool) -> None:
        self.width, self.rtl, self.parts = width, rtl, list[str]()

    def x(self, x: float, w: float = 0.0) -> float:
        return self.width - x - w if self.rtl else x

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        fill: str,
        tip: str = "",
        href: str | None = None,
    ) -> None:
        tooltip = f"<title>{escape(tip)}</title>" if tip else ""
        shape = (
            f'<rect x="{self.x(x, w):.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="{escape(fill)}">{tooltip}</rect>'
        )
        if href:  # a link to the filtered queue, named by the same words as the tooltip
            shape = f'<a href="{escape(href)}" aria-label="{escape(tip)}">{shape}</a>'
        self.parts.append(shape)

    def label(
        self,
        x: float,
        y: float,
        content: str,
        width: float,
        anchor: str = "start",
        lines_at_most: int = 2,
    ) -> None:
        """``content`` on at most ``lines_at_most`` lines of ``width``; clipped beyond; when
        wrapped or clipped, the whole name is its tooltip (and in the table under the chart)."""
        lines = wrap(content, width, lines_at_most)
        top = y - (len(lines) - 1) * (FONT + 1) / 2
        spans = "".join(
            f'<tspan x="{self.x(x):.1f}" y="{top + i * (FONT + 1):.1f}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        tip = f"<title>{escape(content)}</title>" if "".join(lines) != content else ""
        self.parts.append(f'<text text-anchor="{anchor}">{tip}{spans}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str) -> None:
        self.parts.append(
            f'<line x1="{self.x(x1):.1f}" y1="{y1:.1f}" x2="{self.x(x2):.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}" stroke-width="1"/>'
        )

    def text(
        self, x: float, y: float, content: str, anchor: str = "start", extra: str = ""
    ) -> None:
        self.parts.append(
            f'<text x="{self.x(x):.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>'
            f"{escape(content)}</text>"
        )

    def svg(self, ident: str, title: str, desc: str, height: float) -> Markup:
        wide = " vigie-chart-wide" if self.width > BAR_WIDTH else ""
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="vigie-chart{wide}" role="img" '
            f'viewBox="0 0 {self.width:.0f} {height:.0f}" width="100%" '
            f'direction="{"rtl" if self.rtl else "ltr"}" font-size="{FONT}" fill="{INK}" '
            f'aria-labelledby="{ident}-title {ident}-desc">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(desc)}</desc>'
        )
        return Markup(head + "".join(self.parts) + "</svg>")  # noqa: S704 - every part escaped


def nice_ticks(maximum: float, count: int = 5, *, integer: bool = True) -> list[float]:
    """Round axis ticks from 0 to at least ``maximum`` (steps 1, 2 or 5 × 10ⁿ); ``integer``
    (counts): whole steps, never "0, 0.2, 0.4" for one incident."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(step, 1.0)
    top = math.ceil(maximum / step - 1e-9) * step
    return [round(i * step, 10) for i in range(round(top / step) + 1)]


def tick_decimals(ticks: Sequence[float]) -> int:
    """The decimals that tell the ticks apart (0 for whole steps)."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return 0 if step >= 1 else min(3, math.ceil(-math.log10(step) - 1e-9))


def _clip(text: str, width: float) -> str:
    room = max(int(width / CHAR), 3)
    return text if len(text) <= room else text[: room - 1] + "…"


def wrap(text: str, width: float, lines: int = 2) -> list[str]:
    """``text`` on at most ``lines`` lines of ``width`` px (at word boundaries when it can);
    the last clipped with "…" when it still does not fit."""
    room = max(int(width / CHAR), 3)
    words, found, current = text.split(), list[str](), ""
    for word in words:
        if current and len(current) + 1 + len(word) > room:
            found.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    found.append(current)
    if len(found) > lines:
        found = found[: lines - 1] + [" ".join(found[lines - 1 :])]
    return [_clip(line, width) for line in found] or [""]


def stacked_bars(
    *,
    ident: str,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    columns: Sequence[str],
    values: Sequence[Mapping[str, float]],
    series: Sequence[Series],
    number: Callable[[float], str],
    rtl: bool = False,
    links: Sequence[Mapping[str, str]] | None = None,
) -> Markup:
    """Vertical bars, one per column (time bucket), stacked by series, with a legend below;
    ``links``: per column, the address of each series' segment."""
    legend_columns = 3
    legend_rows = math.ceil(len(series) / legend_columns) * 2  # names on up to two lines
    left, right, top, plot_h = 56.0, 16.0, 16.0, 200.0
    bottom = top + plot_h
    height = bottom + 48 + legend_rows * 14
    canvas = _Canvas(WIDTH, rtl)
    totals = [sum(v.values()) for v in values]
    ticks = nice_ticks(max(totals, default=0))
    scale = plot_h / ticks[-1]
    for tick in ticks:
        y = bottom - tick * scale
        canvas.line(left, y, WIDTH - right, y, GRID)
        canvas.text(left - 6, y + 4, number(tick), "end")
    plot_w = WIDTH - left - right
    slot = plot_w / max(len(columns), 1)
    every = max(1, math.ceil(len(columns) * 64 / plot_w))  # labels ~64 px apart at least
    for i, (column, counts) in enumerate(zip(columns, values, strict=True)):
        x = left + i * slot + slot * 0.15
        y = bottom
        for item in series:
            value = counts.get(item.key, 0)
            if value:
                h = value * scale
                y -= h
                tip = f"{column} — {item.name}: {number(value)}"
                href = links[i].get(item.key) if links else None
                canvas.rect(x, y, slot * 0.7, h, item.colour, tip, href)
        if i % every == 0:
            canvas.text(left + i * slot + slot / 2, bottom + 16, column, "middle")
    canvas.line(left, bottom, WIDTH - right, bottom, AXIS)
    canvas.text(left + plot_w / 2, bottom + 34, x_label, "middle", ' font-weight="bold"')
    canvas.text(
        14,
        top + plot_h / 2,
        y_label,
        "middle",
        f' font-weight="bold" transform="rotate(-90 {canvas.x(14):.1f} {top + plot_h / 2:.1f})"',
    )
    cell = plot_w / legend_columns
    for i, item in enumerate(series):
        x = left + (i % legend_columns) * cell
        y = bottom + 52 + (i // legend_columns) * 28
        canvas.rect(x, y - 10, 12, 12, item.colour, item.name)
        canvas.label(x + 18, y + 6, item.name, cell - 24)
    return canvas.svg(ident, title, desc, height)


def horizontal_bars(
    *,
    ident: str,
    title: str,
    desc: str,
    x_label: str,
    bars: Sequence[Bar],
    number: Callable[[float], str],
    maximum: float | None = None,
    rtl: bool = False,
    integer: bool = True,
) -> Markup:
    """One horizontal bar per row, its label (on up to three lines, the row as tall as it
    needs) before it and its value text after it; a bar with an ``href`` links there.
    ``integer``: whole ticks (counts)."""
    width, label_w, value_w, top, line_h = float(BAR_WIDTH), 132.0, 64.0, 8.0, FONT + 1.0
    plot_x, plot_w = label_w + 8, width - label_w - value_w - 16
    heights = [max(24.0, len(wrap(b.label, label_w - 4, LABEL_LINES)) * line_h + 10) for b in bars]
    bottom = top + (sum(heights) if bars else 24.0)
    height = bottom + 40
    canvas = _Canvas(width, rtl)
    top_value = maximum if maximum is not None else max((b.value for b in bars), default=0)
    ticks = nice_ticks(top_value, integer=integer)
    decimals = tick_decimals(ticks)
    scale = plot_w / ticks[-1]
    for tick in ticks:
        x = plot_x + tick * scale
        canvas.line(x, top, x, bottom, GRID)
        canvas.text(x, bottom + 14, number(round(tick, decimals)), "middle")
    y = top
    for bar, row_h in zip(bars, heights, strict=True):
        middle = y + row_h / 2
        canvas.label(label_w, middle + 4, bar.label, label_w - 4, "end", LABEL_LINES)
        length = max(bar.value * scale, 0.0)
        if length:
            tip = f"{bar.label}: {bar.text}"
            canvas.rect(plot_x, middle - 8, length, 16, bar.colour, tip, bar.href)
        canvas.text(plot_x + length + 6, middle + 4, bar.text)
        y += row_h
    canvas.line(plot_x, top, plot_x, bottom, AXIS)
    canvas.text(plot_x + plot_w / 2, bottom + 32, x_label, "middle", ' font-weight="bold"')
    return canvas.svg(ident, title, desc, height)


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
