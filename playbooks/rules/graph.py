"""A CACAO workflow laid out as a layered graph (pure): nodes with x/y, edges with points.

The drawing (:mod:`playbooks.pages.graph_svg`) reads top to bottom:

1. every step reachable from ``workflow_start`` is visited depth first; an edge to a step still
   on the path (the way back to a ``while-condition``, or any other cycle) is a *back* edge,
   drawn as a loop; steps nothing reaches are laid out after, from their own first step;
2. each step's layer is the longest path to it from the start over the other edges, so every
   edge goes down;
3. an edge spanning several layers passes through a placeholder in each layer it crosses
   (never through a step), and the steps of a layer are ordered by the mean position of their
   neighbours, a few sweeps down and up, which removes most crossings;
4. each layer's slots are centred; back edges run down a channel at the right of the drawing,
   their horizontal parts between layers, where no step is.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SLOT = 200.0  # horizontal room of one step (the widest is 180)
ROW = 112.0  # vertical distance between layers
MARGIN = 24.0
LOOP_GAP = 18.0  # distance between the channels of two back edges
SWEEPS = 4
SIZES: dict[str, tuple[float, float]] = {  # width, height by step type
    "start": (40.0, 40.0),
    "end": (40.0, 40.0),
    "action": (180.0, 52.0),
    "playbook-action": (180.0, 52.0),
    "if-condition": (150.0, 72.0),
    "while-condition": (150.0, 72.0),
    "switch-condition": (150.0, 72.0),
    "parallel": (160.0, 14.0),
}
DEFAULT_SIZE = (180.0, 52.0)  # a step of a type CACAO does not define (refused at import)

Point = tuple[float, float]


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: str  # the step's name, else its type
    layer: int
    x: float  # centre
    y: float
    width: float
    height: float

    @property
    def top(self) -> Point:
        return (self.x, self.y - self.height / 2)

    @property
    def bottom(self) -> Point:
        return (self.x, self.y + self.height / 2)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # completion | success | failure | true | false | case | branch
    label: str | None  # the case value, the branch number
    points: tuple[Point, ...]
    back: bool = False  # drawn back up to a while-condition (or another cycle)


@dataclass(frozen=True)
class Layout:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float


@dataclass(frozen=True)
class _Link:
    source: str
    target: str
    kind: str
    label: str | None


def links(workflow: Mapping[str, Any]) -> list[_Link]:
    """Every edge of the workflow, in the document's order, to steps that exist."""
    found: list[_Link] = []
    for sid, step in workflow.items():
        if not isinstance(step, Mapping):
            continue
        kinds: tuple[str, ...] = ("completion", "success", "failure")
        if step.get("type") in ("if-condition", "while-condition"):
            kinds += ("true", "false")
        for kind in kinds:
            target = step.get(_KEYS[kind])
            if isinstance(target, str) and target in workflow:
                found.append(_Link(sid, target, kind, None))
        cases = step.get("cases") if step.get("type") == "switch-condition" else None
        for value, target in (cases or {}).items() if isinstance(cases, Mapping) else ():
            if isinstance(target, str) and target in workflow:
                found.append(_Link(sid, target, "case", str(value)))
        branches = step.get("next_steps") if step.get("type") == "parallel" else None
        for n, target in enumerate(branches if isinstance(branches, list) else [], start=1):
            if isinstance(target, str) and target in workflow:
                found.append(_Link(sid, target, "branch", str(n)))
    return found


_KEYS = {
    "completion": "on_completion",
    "success": "on_success",
    "failure": "on_failure",
    "true": "on_true",
    "false": "on_false",
}


def layout(document: Mapping[str, Any]) -> Layout:
    workflow = document.get("workflow")
    if not isinstance(workflow, Mapping) or not workflow:
        return Layout((), (), 2 * MARGIN, 2 * MARGIN)
    steps = {k: v if isinstance(v, Mapping) else {} for k, v in workflow.items()}
    edges = links(steps)
    out: dict[str, list[_Link]] = {sid: [] for sid in steps}
    for link in edges:
        out[link.source].append(link)
    order, back = _visit(steps, out, document.get("workflow_start"))
    layer = _layers(order, [e for e in edges if id(e) not in back])
    rows = _rows(order, layer, [e for e in edges if id(e) not in back])
    _reorder(rows)
    return _place(steps, layer, rows, edges, back)


def _visit(
    steps: Mapping[str, Any], out: Mapping[str, list[_Link]], start: object
) -> tuple[list[str], set[int]]:
    """Depth-first order (start first, then the unreached steps) and the back edges' ids."""
    seen: set[str] = set()
    on_path: set[str] = set()
    order: list[str] = []
    back: set[int] = set()
    roots = [start] if isinstance(start, str) and start in steps else []
    for root in [*roots, *steps]:
        if root in seen:
            continue
        seen.add(root)
        on_path.add(root)
        order.append(root)
        stack = [(root, iter(out[root]))]
        while stack:
            sid, pending = stack[-1]
            link = next(pending, None)
            if link is None:
                stack.pop()
                on_path.discard(sid)
            elif link.target in on_path:
                back.add(id(link))
            elif link.target not in seen:
                seen.add(link.target)
                on_path.add(link.target)
                order.append(link.target)
                stack.append((link.target, iter(out[link.target])))
    return order, back


def _layers(order: list[str], forward: list[_Link]) -> dict[str, int]:
    """Longest path from the roots over the forward edges (a DAG: the back edges are out)."""
    incoming: dict[str, int] = dict.fromkeys(order, 0)
    following: dict[str, list[str]] = {sid: [] for sid in order}
    for link in forward:
        incoming[link.target] += 1
        following[link.source].append(link.target)
    layer = dict.fromkeys(order, 0)
    ready = [sid for sid in order if incoming[sid] == 0]
    while ready:
        sid = ready.pop(0)
        for target in following[sid]:
            layer[target] = max(layer[target], layer[sid] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return layer


@dataclass
class _Slot:
    key: str  # a step id, or "~<edge>#<layer>" for a placeholder
    up: list[str]  # keys in the layer above it is linked to
    down: list[str]


def _rows(order: list[str], layer: dict[str, int], forward: list[_Link]) -> list[list[_Slot]]:
    depth = max(layer.values()) + 1
    slots: dict[str, _Slot] = {sid: _Slot(sid, [], []) for sid in order}
    rows: list[list[_Slot]] = [[] for _ in range(depth)]
    for sid in order:
        rows[layer[sid]].append(slots[sid])
    for n, link in enumerate(forward):
        chain = [link.source]
        for k in range(layer[link.source] + 1, layer[link.target]):
            key = f"~{n}#{k}"
            slots[key] = _Slot(key, [], [])
            rows[k].append(slots[key])
            chain.append(key)
        chain.append(link.target)
        for upper, lower in zip(chain, chain[1:], strict=False):
            slots[upper].down.append(lower)
            slots[lower].up.append(upper)
    return rows


def _crossings(rows: list[list[_Slot]]) -> int:
    """Pairs of edges that cross between adjacent layers."""
    total = 0
    for upper, lower in itertools.pairwise(rows):
        where = {slot.key: i for i, slot in enumerate(lower)}
        ends = [(i, where[key]) for i, slot in enumerate(upper) for key in slot.down]
        total += sum(
            1 for (a, b), (c, d) in itertools.combinations(ends, 2) if (a - c) * (b - d) < 0
        )
    return total


def _reorder(rows: list[list[_Slot]]) -> None:
    """Barycentre sweeps: each slot moves to the mean position of its neighbours; the order
    with the fewest crossings seen (the first one included) is kept."""
    best, fewest = [list(row) for row in rows], _crossings(rows)
    for sweep in range(SWEEPS):
        if fewest == 0:
            break
        downwards = sweep % 2 == 0
        span = range(1, len(rows)) if downwards else range(len(rows) - 2, -1, -1)
        for k in span:
            fixed = rows[k - 1] if downwards else rows[k + 1]
            where = {slot.key: i for i, slot in enumerate(fixed)}

            keyed = [
                (_centre(slot, i, where, downwards), i, slot) for i, slot in enumerate(rows[k])
            ]
            rows[k][:] = [slot for _c, _i, slot in sorted(keyed, key=lambda t: (t[0], t[1]))]
        crossings = _crossings(rows)
        if crossings < fewest:
            best, fewest = [list(row) for row in rows], crossings
    rows[:] = best


def _centre(slot: _Slot, i: int, where: Mapping[str, int], downwards: bool) -> float:
    near = [where[key] for key in (slot.up if downwards else slot.down) if key in where]
    return sum(near) / len(near) if near else float(i)


def _place(
    steps: Mapping[str, Mapping[str, Any]],
    layer: dict[str, int],
    rows: list[list[_Slot]],
    edges: list[_Link],
    back: set[int],
) -> Layout:
    widest = max(len(row) for row in rows)
    centre: dict[str, Point] = {}
    for k, row in enumerate(rows):
        shift = (widest - len(row)) * SLOT / 2
        for i, slot in enumerate(row):
            centre[slot.key] = (MARGIN + shift + i * SLOT + SLOT / 2, MARGIN + k * ROW + ROW / 2)
    nodes = {}
    for sid, step in steps.items():
        kind = str(step.get("type", ""))
        width, height = SIZES.get(kind, DEFAULT_SIZE)
        name = step.get("name")
        label = name if isinstance(name, str) and name.strip() else kind
        x, y = centre[sid]
        nodes[sid] = Node(sid, kind, label, layer[sid], x, y, width, height)
    right = MARGIN + widest * SLOT
    drawn: list[Edge] = []
    loops = 0
    for n, link in enumerate(link for link in edges if id(link) not in back):
        via = [centre[f"~{n}#{k}"] for k in range(layer[link.source] + 1, layer[link.target])]
        points = (nodes[link.source].bottom, *via, nodes[link.target].top)
        drawn.append(Edge(link.source, link.target, link.kind, link.label, points))
    for link in (link for link in edges if id(link) in back):
        loops += 1
        drawn.append(_loop(link, nodes[link.source], nodes[link.target], right + loops * LOOP_GAP))
    width = right + loops * LOOP_GAP + MARGIN
    return Layout(tuple(nodes.values()), tuple(drawn), width, MARGIN * 2 + len(rows) * ROW)


def _loop(link: _Link, source: Node, target: Node, channel: float) -> Edge:
    """Down out of ``source``, right to the channel, up, left above ``target``, into its top."""
    below = source.y + ROW / 2 - 6
    above = target.y - ROW / 2 + 6
    points = (
        source.bottom,
        (source.x, below),
        (channel, below),
        (channel, above),
        (target.x, above),
        target.top,
    )
    return Edge(link.source, link.target, link.kind, link.label, points, back=True)
