"""The workflow graph: layered layout (every step type, loops, long documents) and its SVG."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET  # our own output, not untrusted input

from playbooks.pages.graph_svg import render
from playbooks.rules.graph import Layout, Node, layout
from tests.playbooks.cacao_kit import document
from tests.playbooks.graph_kit import every_step_type, long_chain

SVG = "{http://www.w3.org/2000/svg}"


def _draw(graph: Layout, title: str = "Playbook") -> ET.Element:
    svg = render(graph, type_names={"action": "Action"}, edge_names={"true": "yes"}, title=title)
    return ET.fromstring(str(svg))  # noqa: S314  # well-formed XML, or this raises


def _overlap(a: Node, b: Node) -> bool:
    return abs(a.x - b.x) * 2 < a.width + b.width and abs(a.y - b.y) * 2 < a.height + b.height


def test_every_step_type_is_laid_out_in_layers_from_the_start() -> None:
    doc, ids = every_step_type()
    graph = layout(doc)
    nodes = {node.id: node for node in graph.nodes}
    assert set(nodes) == set(doc["workflow"])
    layer = {role: nodes[step].layer for role, step in ids.items()}
    assert layer["start"] == 0 and layer["if"] == 1
    assert layer["par"] == layer["switch"] == 2
    assert layer["a1"] == layer["a2"] == 3
    # longest path: the while step comes after both cases, its body below it
    assert layer["while"] == 4 and layer["body"] == 5 and layer["sub"] == 5
    assert layer["end"] > layer["fix"] > layer["sub"]
    kinds = {(e.source, e.target): (e.kind, e.label, e.back) for e in graph.edges}
    assert kinds[ids["if"], ids["par"]] == ("true", None, False)
    assert kinds[ids["if"], ids["switch"]] == ("false", None, False)
    assert kinds[ids["par"], ids["a2"]] == ("branch", "2", False)
    assert kinds[ids["switch"], ids["c1"]] == ("case", "P1", False)
    assert kinds[ids["sub"], ids["fix"]] == ("failure", None, False)
    assert kinds[ids["sub"], ids["end"]][0] == "success"
    assert kinds[ids["body"], ids["while"]] == ("completion", None, True)  # the loop
    for edge in graph.edges:  # forward edges go down, from a bottom to a top
        src, dst = nodes[edge.source], nodes[edge.target]
        assert edge.points[0] == src.bottom and edge.points[-1] == dst.top
        if not edge.back:
            assert all(b[1] > a[1] for a, b in itertools.pairwise(edge.points))
    # no crossing: the parallel's branches left of the switch's cases, as their parents
    assert max(nodes[ids[k]].x for k in ("a1", "a2")) < min(nodes[ids[k]].x for k in ("c1", "c2"))
    loop = next(e for e in graph.edges if e.back)
    assert max(x for x, _ in loop.points) > max(n.x + n.width / 2 for n in graph.nodes)


def test_each_step_type_has_its_shape_in_the_svg() -> None:
    doc, ids = every_step_type()
    root = _draw(layout(doc))
    shapes = {g.get("class", "").split()[-1]: g for g in root.iter(f"{SVG}g")
              if "pb-node" in g.get("class", "")}  # fmt: skip
    assert shapes["pb-start"].find(f"{SVG}circle") is not None
    assert len(shapes["pb-end"].findall(f"{SVG}circle")) == 2
    assert shapes["pb-action"].find(f"{SVG}rect") is not None
    assert len(shapes["pb-playbook-action"].findall(f"{SVG}rect")) == 2
    for kind in ("if-condition", "while-condition", "switch-condition"):
        assert shapes[f"pb-{kind}"].find(f"{SVG}polygon") is not None
    assert shapes["pb-parallel"].find(f"{SVG}rect") is not None
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "yes" in labels and "P1" in labels  # on_true translated, a case value as it is
    assert len(root.findall(f"{SVG}polyline")) + len(
        root.findall(f".//{SVG}g/{SVG}polyline")
    ) == len(layout(doc).edges)


def test_a_sixty_step_document_stays_readable() -> None:
    graph = layout(long_chain(60))
    assert len(graph.nodes) == 60
    for a, b in itertools.combinations(graph.nodes, 2):
        assert not _overlap(a, b), (a.name, b.name)
    for node in graph.nodes:  # everything inside the drawing
        assert node.x - node.width / 2 > 0 and node.x + node.width / 2 < graph.width
        assert node.y - node.height / 2 > 0 and node.y + node.height / 2 < graph.height
    # edges that skip layers bend around the steps in between, never through one
    for edge in graph.edges:
        for x, y in edge.points[1:-1]:
            assert not any(abs(x - n.x) * 2 < n.width and abs(y - n.y) * 2 < n.height
                           for n in graph.nodes)  # fmt: skip
    assert graph.width < 1000  # a chain is one column (plus the skips), not a wall
    root = _draw(graph)
    assert len([g for g in root.iter(f"{SVG}g") if "pb-node" in g.get("class", "")]) == 60


def test_hostile_step_names_are_escaped_and_cannot_reorder_text() -> None:
    doc = document()
    action = next(k for k, v in doc["workflow"].items() if v["type"] == "action")
    doc["workflow"][action]["name"] = '<script>alert(1)</script>\u202egnp.exe" onload="x'
    svg = str(render(layout(doc), type_names={}, edge_names={}, title="<b>T</b>\u202e"))
    assert "<script>" not in svg and "<b>" not in svg and 'onload="x' not in svg
    assert "\u202e" not in svg
    assert "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # noqa: S314
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any(t.endswith('<script>alert(1)</script>gnp.exe" onload="x') for t in titles)
    label = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "pb-label")
    assert label.text is not None and label.text.endswith("…") and len(label.text) == 24


def test_cycles_outside_while_and_unreached_steps_still_draw() -> None:
    doc = document()
    steps = doc["workflow"]
    action = next(k for k, v in steps.items() if v["type"] == "action")
    end = next(k for k, v in steps.items() if v["type"] == "end")
    steps[action] = dict(steps[action], on_completion=None, on_success=end, on_failure=action)
    del steps[action]["on_completion"]
    steps["action--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a99"] = {"type": "action", "name": "Lost"}
    graph = layout(doc)
    assert len(graph.nodes) == 4
    assert [e.kind for e in graph.edges if e.back] == ["failure"]
    assert layout({"workflow": {}}).nodes == ()
