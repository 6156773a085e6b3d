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
from dataclasses import dataclass
from typing import Any

from babel.dates import format_skeleton, format_timedelta
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup, escape

from incidents.reporting.dashboard import Dashboard, Group
from incidents.rules import labels

WIDTH = 720  # full-width charts (over time)
BAR_WIDTH = 400  # half-width charts (horizontal bars): text stays legible when scaled down
FONT = 12
CHAR = 6.6  # average glyph width at FONT px, to lay out labels
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


def colour_of(category: str) -> str:
    return CLASS_COLOURS.get(category, DEFAULT_COLOUR)


class _Canvas:
    """SVG elements with x mirrored for right-to-left pages."""

    def __init__(self, width: float, rtl: bool) -> None:
        self.width, self.rtl, self.parts = width, rtl, list[str]()

    def x(self, x: float, w: float = 0.0) -> float:
        return self.width - x - w if self.rtl else x

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> None:
        tooltip = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(
            f'<rect x="{self.x(x, w):.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="{escape(fill)}">{tooltip}</rect>'
        )

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
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="vigie-chart" role="img" '
            f'viewBox="0 0 {self.width:.0f} {height:.0f}" width="100%" '
            f'direction="{"rtl" if self.rtl else "ltr"}" font-size="{FONT}" fill="{INK}" '
            f'aria-labelledby="{ident}-title {ident}-desc">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(desc)}</desc>'
        )
        return Markup(head + "".join(self.parts) + "</svg>")  # noqa: S704 - every part escaped


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``maximum`` (steps 1, 2 or 5 × 10ⁿ)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0) if maximum >= 1 else step
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(round(top / step) + 1)]


def _clip(text: str, width: float) -> str:
    room = max(int(width / CHAR), 3)
    return text if len(text) <= room else text[: room - 1] + "…"


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
) -> Markup:
    """Vertical bars, one per column (time bucket), stacked by series, with a legend below."""
    legend_columns = 3
    legend_rows = math.ceil(len(series) / legend_columns)
    left, right, top, plot_h = 56.0, 16.0, 16.0, 200.0
    bottom = top + plot_h
    height = bottom + 48 + legend_rows * 20
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
                canvas.rect(x, y, slot * 0.7, h, item.colour, tip)
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
        y = bottom + 52 + (i // legend_columns) * 20
        canvas.rect(x, y - 10, 12, 12, item.colour, item.name)
        canvas.text(x + 18, y, _clip(item.name, cell - 24))
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
) -> Markup:
    """One horizontal bar per row, its label before it and its value text after it."""
    width, label_w, value_w, row_h, top = float(BAR_WIDTH), 120.0, 64.0, 24.0, 8.0
    plot_x, plot_w = label_w + 8, width - label_w - value_w - 16
    bottom = top + max(len(bars), 1) * row_h
    height = bottom + 40
    canvas = _Canvas(width, rtl)
    ticks = nice_ticks(maximum if maximum is not None else max((b.value for b in bars), default=0))
    scale = plot_w / ticks[-1]
    for tick in ticks:
        x = plot_x + tick * scale
        canvas.line(x, top, x, bottom, GRID)
        canvas.text(x, bottom + 14, number(tick), "middle")
    for i, bar in enumerate(bars):
        y = top + i * row_h
        canvas.text(label_w, y + row_h / 2 + 4, _clip(bar.label, label_w), "end")
        length = max(bar.value * scale, 0.0)
        if length:
            canvas.rect(plot_x, y + 4, length, row_h - 8, bar.colour, f"{bar.label}: {bar.text}")
        canvas.text(plot_x + length + 6, y + row_h / 2 + 4, bar.text)
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


class Formats:
    """Localised numbers, percentages, durations and bucket dates (Babel, Flask-free)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._numbers: dict[float, str] = {}  # a page shows the same few counts many times

    def number(self, value: float) -> str:
        text = self._numbers.get(value)
        if text is None:
            text = format_decimal(value, format="#,##0.#", locale=self.locale)
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


def dashboard_charts(
    board: Dashboard, *, locale: str, _: Callable[[str], str], rtl: bool, staff: bool
) -> list[Chart]:
    """Every chart of the dashboard page, with its table, in display order."""
    fmt = Formats(locale)
    charts = [_over_time(board, fmt, _, rtl), _open(board, fmt, _, rtl)]
    if staff:
        charts += [
            _groups(board.by_organisation, "by-org", _("Incidents by organisation"), fmt, _, rtl),
            _groups(board.by_sector, "by-sector", _("Incidents by sector"), fmt, _, rtl),
        ]
    return [*charts, *_sla(board, fmt, _, rtl), *_times(board, fmt, _, rtl)]


def _over_time(board: Dashboard, fmt: Formats, _: Callable[[str], str], rtl: bool) -> Chart:
    names = {c: _(labels.RSIT_CLASSES.get(c, (c, ""))[0]) for c in board.categories}
    series = [Series(c, names[c], colour_of(c)) for c in board.categories]
    columns = [fmt.bucket(b.start, board.granularity) for b in board.over_time]
    unit = {"day": _("Day"), "week": _("Week starting"), "month": _("Month")}[board.granularity]
    title = _("Incidents received over time, by RSIT class")
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
    )
    head = [unit, *names.values(), _("Total")]
    rows = [
        [column, *(fmt.number(b.counts.get(c, 0)) for c in board.categories), fmt.number(b.total)]
        for column, b in zip(columns, board.over_time, strict=True)
        if b.total
    ]
    return Chart("over-time", title, svg, head, rows)


def _bars_chart(
    ident: str, title: str, x_label: str, bars: list[Bar], fmt: Formats, rtl: bool, **kw: Any
) -> Markup:
    return horizontal_bars(
        ident=ident, title=title, desc=title, x_label=x_label, bars=bars, number=fmt.number,
        rtl=rtl, **kw,
    )  # fmt: skip


def _open(board: Dashboard, fmt: Formats, _: Callable[[str], str], rtl: bool) -> Chart:
    title = _("Open incidents by priority (now)")
    bars = [
        Bar(p, n, fmt.number(n), PRIORITY_COLOURS.get(p, DEFAULT_COLOUR))
        for p, n in board.open_by_priority.items()
    ]
    svg = _bars_chart("open", title, _("Incidents"), bars, fmt, rtl)
    return Chart("open", title, svg, [_("Priority"), _("Open")], [[b.label, b.text] for b in bars])


def _groups(
    groups: Sequence[Group],
    ident: str,
    title: str,
    fmt: Formats,
    _: Callable[[str], str],
    rtl: bool,
) -> Chart:
    def name(group: Group) -> str:
        if group.name is None:
            return group.key or _("Not specified")
        latin, arabic = (group.name.split("\t") + [""])[:2]
        return arabic if rtl and arabic else latin

    shown = list(groups[:12])
    bars = [Bar(name(g), g.figures.count, fmt.number(g.figures.count)) for g in shown]
    rest = sum(g.figures.count for g in groups[12:])
    if rest:
        bars.append(Bar(_("Others"), rest, fmt.number(rest), "#999999"))
    svg = _bars_chart(ident, title, _("Incidents"), bars, fmt, rtl)
    rows = [[name(g), fmt.number(g.figures.count)] for g in groups]
    return Chart(ident, title, svg, [_("Name"), _("Incidents")], rows)


def _sla(board: Dashboard, fmt: Formats, _: Callable[[str], str], rtl: bool) -> list[Chart]:
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
            bars.append(Bar(group.key, (ratio or 0) * 100, fmt.percent(ratio), colour))
            rows.append([group.key, fmt.number(done), fmt.number(due), fmt.percent(ratio)])
        svg = _bars_chart(ident, title, _("% within the SLA"), bars, fmt, rtl, maximum=100)
        head = [_("Priority"), _("Met"), _("Met, missed or overdue"), _("Compliance")]
        result.append(Chart(ident, title, svg, head, rows))
    return result


def _times(board: Dashboard, fmt: Formats, _: Callable[[str], str], rtl: bool) -> list[Chart]:
    result = []
    for ident, title, mean, count in (
        ("mtta", _("Mean time to acknowledge (MTTA), by priority"), "mtta", "acknowledged"),
        ("mttr", _("Mean time to resolve (MTTR), by priority"), "mttr", "resolved"),
    ):
        rows, bars = [], []
        for group in board.by_priority:
            seconds = getattr(group.figures, mean)
            colour = PRIORITY_COLOURS.get(group.key, DEFAULT_COLOUR)
            bars.append(Bar(group.key, (seconds or 0) / 3600, fmt.duration(seconds), colour))
            n = getattr(group.figures, count)
            rows.append([group.key, fmt.number(n), fmt.hours(seconds), fmt.duration(seconds)])
        svg = _bars_chart(ident, title, _("Hours"), bars, fmt, rtl)
        head = [_("Priority"), _("Incidents"), _("Hours"), _("Mean")]
        result.append(Chart(ident, title, svg, head, rows))
    return result
