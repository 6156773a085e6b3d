"""Server-side SVG charts (pure, Flask-free): no script, no CDN, inline in the page.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``; every bar has a
``<title>`` (tooltip and accessible name) and the pages print the same figures in a table under
the chart. Right-to-left pages get a mirrored chart: x coordinates are flipped and the SVG's
``direction="rtl"`` makes the logical text anchors (``start``/``end``) follow.

Callers pass display strings already translated and localised (labels, numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

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
