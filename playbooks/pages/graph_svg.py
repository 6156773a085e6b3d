"""A laid-out workflow (:mod:`playbooks.rules.graph`) drawn as inline SVG (pure, no script).

Shapes by step type: ``start`` and ``end`` circles (the end one doubled), actions and
playbook-actions rectangles (the latter with a second border), conditions diamonds, parallel a
thick bar. Every text is escaped; bidirectional control characters are removed from names (an
imported name cannot reorder the drawing's text); long names are cut with "…" and the whole name
is the shape's ``<title>`` (its tooltip, and what a screen reader says). Colours and fonts come
from classes (``pb-…``) styled by the slice's stylesheet: the CSP forbids inline styles. Text is
centred (``text-anchor: middle``), so the drawing reads the same on a right-to-left page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from markupsafe import Markup, escape

from playbooks.rules.graph import Edge, Layout, Node

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
MAX_CHARS = {"action": 24, "playbook-action": 24, "parallel": 22}
CONDITION_CHARS = 16
EDGE_LABEL_CHARS = 18


def clean(text: str) -> str:
    """``text`` without bidirectional controls and other control characters."""
    return "".join(c for c in BIDI_CONTROLS.sub("", text) if c >= " " or c == "\t")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(
    graph: Layout,
    *,
    type_names: Mapping[str, str],
    edge_names: Mapping[str, str],
    title: str,
    prefix: str = "pb",
) -> Markup:
    """The ``<svg>`` of ``graph``; ``type_names`` and ``edge_names`` translate step types and
    edge kinds (``success``, ``failure``, ``true``…); ``title`` names the drawing."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pb-graph" role="img" '
        f'width="{graph.width:.0f}" height="{graph.height:.0f}" '
        f'viewBox="0 0 {graph.width:.0f} {graph.height:.0f}" '
        f'aria-labelledby="{prefix}-title" direction="ltr">',
        f'<title id="{prefix}-title">{escape(clean(title))}</title>',
        "<defs>"
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" class="pb-arrow"/></marker></defs>',
    ]
    parts += [_edge(edge, edge_names, prefix) for edge in graph.edges]
    parts += [_node(node, type_names) for node in graph.nodes]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text escaped above


def _edge(edge: Edge, names: Mapping[str, str], prefix: str) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in edge.points)
    css = f"pb-edge pb-edge-{edge.kind}" + (" pb-edge-back" if edge.back else "")
    drawn = (
        f'<polyline class="{css}" points="{path}" fill="none" marker-end="url(#{prefix}-arrow)"/>'
    )
    words = names.get(edge.kind, "") if edge.kind != "case" else ""
    text = clean(" ".join(w for w in (words, edge.label or "") if w))
    if not text or edge.kind == "completion":
        return drawn
    (x1, y1), (x2, y2) = edge.points[0], edge.points[1]
    x, y = x1 + (x2 - x1) * 0.45, y1 + (y2 - y1) * 0.45
    if edge.back:
        x, y = (x1 + x2) / 2 + 4, y2 - 4
    shown = truncate(text, EDGE_LABEL_CHARS)
    return (
        f'<g class="pb-edge-label pb-edge-label-{edge.kind}">{drawn}'
        f"<title>{escape(text)}</title>"
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" unicode-bidi="plaintext">'
        f"{escape(shown)}</text></g>"
    )


def _node(node: Node, type_names: Mapping[str, str]) -> str:
    kind = node.type if node.type in _SHAPES else "action"
    name = clean(node.name)
    kind_name = type_names.get(node.type, node.type)
    tooltip = f"{kind_name}: {name}" if name != node.type else kind_name
    shape = _SHAPES[kind](node)
    limit = CONDITION_CHARS if kind.endswith("-condition") else MAX_CHARS.get(kind, 0)
    label = ""
    if limit:
        ty = node.y + 4 if kind != "parallel" else node.y - node.height / 2 - 6
        label = (
            f'<text x="{node.x:.1f}" y="{ty:.1f}" text-anchor="middle" class="pb-label" '
            f'unicode-bidi="plaintext">{escape(truncate(name, limit))}</text>'
        )
    elif kind in ("start", "end"):
        label = (
            f'<text x="{node.x + node.width / 2 + 6:.1f}" y="{node.y + 4:.1f}" '
            f'text-anchor="start" class="pb-caption">{escape(kind_name)}</text>'
        )
    css = f"pb-node pb-{escape(node.type)}"
    return f'<g class="{css}"><title>{escape(tooltip)}</title>{shape}{label}</g>'


def _circle(node: Node) -> str:
    r = node.width / 2
    inner = (
        f'<circle cx="{node.x:.1f}" cy="{node.y:.1f}" r="{r - 5:.1f}" class="pb-shape-inner"/>'
        if node.type == "end"
        else ""
    )
    return f'<circle cx="{node.x:.1f}" cy="{node.y:.1f}" r="{r:.1f}" class="pb-shape"/>{inner}'


def _rect(node: Node) -> str:
    x, y = node.x - node.width / 2, node.y - node.height / 2
    box = (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" '
        f'rx="6" class="pb-shape"/>'
    )
    if node.type == "playbook-action":
        box += (
            f'<rect x="{x + 4:.1f}" y="{y + 4:.1f}" width="{node.width - 8:.1f}" '
            f'height="{node.height - 8:.1f}" rx="4" class="pb-shape-inner"/>'
        )
    return box


def _diamond(node: Node) -> str:
    w, h = node.width / 2, node.height / 2
    points = f"{node.x:.1f},{node.y - h:.1f} {node.x + w:.1f},{node.y:.1f} " + (
        f"{node.x:.1f},{node.y + h:.1f} {node.x - w:.1f},{node.y:.1f}"
    )
    return f'<polygon points="{points}" class="pb-shape"/>'


def _bar(node: Node) -> str:
    x, y = node.x - node.width / 2, node.y - node.height / 2
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" '
        f'rx="3" class="pb-shape"/>'
    )


_SHAPES = {
    "start": _circle,
    "end": _circle,
    "action": _rect,
    "playbook-action": _rect,
    "if-condition": _diamond,
    "while-condition": _diamond,
    "switch-condition": _diamond,
    "parallel": _bar,
}
