"""Checks of a CACAO 2.0 workflow (pure; part of :func:`playbooks.rules.validate.validate`):
each step's id, type, properties and pointers, then the graph — every step reachable from
``workflow_start``, an ``end`` step reachable from every step, and no cycle but the loops of a
``while-condition`` (its ``on_true`` branch may lead back to it; any other cycle never ends).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from playbooks.rules.cacao import IDENTIFIER, STEP_TYPES, VARIABLE_NAME
from playbooks.rules.commandcheck import (
    Scope,
    Visible,
    check_action,
    check_args,
    undeclared,
    variable_declarations,
)
from playbooks.rules.conditions import ConditionError, parse_condition
from playbooks.rules.problems import Problem, at, item, mapping, prop, text, unknown_properties

COMMON = frozenset({"type", "name", "description", "external_references", "delay", "timeout",
                    "step_variables", "owner", "on_completion", "on_success", "on_failure",
                    "step_extensions"})  # fmt: skip
PROPERTIES: dict[str, frozenset[str]] = {
    "start": COMMON,
    "end": COMMON,
    "action": COMMON | {"commands", "agent", "targets", "in_args", "out_args"},
    "playbook-action": COMMON | {"playbook_id", "playbook_version", "in_args", "out_args"},
    "parallel": COMMON | {"next_steps"},
    "if-condition": COMMON | {"condition", "on_true", "on_false"},
    "while-condition": COMMON | {"condition", "on_true"},
    "switch-condition": COMMON | {"switch", "cases"},
}
SINGLE_POINTERS = ("on_completion", "on_success", "on_failure", "on_true", "on_false")
PLAYBOOK_ID = "playbook--"
MAX_LISTED = 6


def check_workflow(document: Mapping[str, Any], workflow: Mapping[str, Any]) -> list[Problem]:
    scope = Scope.of(document)
    problems: list[Problem] = []
    for key, step in workflow.items():
        problems += _step(document, workflow, key, step, scope)
    problems += _start_and_exception(document, workflow)
    return problems + _graph(document, workflow)


def _check_condition(path: str, text: str) -> list[Problem]:
    """The condition's grammar (:func:`playbooks.rules.conditions.parse_condition`, the parser
    the engine evaluates with): a condition the engine could not read is refused at import."""
    try:
        parse_condition(text)
    except ConditionError as exc:
        return [Problem(path, str(exc))]
    return []


def pointers(path: str, step: Mapping[str, Any]) -> Iterator[tuple[str, object, str]]:
    """``(json path, target, property)`` of every step id ``step`` points at."""
    for key in SINGLE_POINTERS:
        if key in step:
            yield prop(path, key), step[key], key
    steps = step.get("next_steps")
    for index, target in enumerate(steps if isinstance(steps, list) else []):
        yield item(prop(path, "next_steps"), index), target, "next_steps"
    for case, target in (mapping(step.get("cases")) or {}).items():
        yield at(prop(path, "cases"), str(case)), target, "cases"


# ---------------------------------------------------------------- one step
def _step(
    document: Mapping[str, Any], workflow: Mapping[str, Any], key: str, step: object, scope: Scope
) -> list[Problem]:
    path = at("$.workflow", key)
    spec = mapping(step)
    if spec is None:
        return [Problem(path, "a step is an object with a type")]
    kind = spec.get("type")
    if "type" not in spec:
        return [Problem(prop(path, "type"), "required property missing")]
    if not isinstance(kind, str) or kind not in STEP_TYPES:
        known = ", ".join(sorted(STEP_TYPES))
        return [Problem(prop(path, "type"), f"unknown step type {kind!r} (one of {known})")]
    problems = _identity(path, key, str(kind))
    problems += unknown_properties(path, spec, PROPERTIES[str(kind)])
    problems += _next(path, spec, str(kind))
    problems += variable_declarations(prop(path, "step_variables"), spec.get("step_variables"))
    for where, target, _ in pointers(path, spec):
        if not isinstance(target, str) or target not in workflow:
            problems.append(Problem(where, f"{target!r} is not a step of the workflow"))
    for number in ("delay", "timeout"):
        value = spec.get(number, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(Problem(prop(path, number), "must be a whole number of milliseconds"))
    return problems + _by_type(document, path, spec, str(kind), scope)


def _identity(path: str, key: str, kind: str) -> list[Problem]:
    if not IDENTIFIER.match(key):
        return [Problem(path, f"a step id is '{kind}--' followed by a UUID")]
    prefix = key.split("--", 1)[0]
    if prefix != kind:
        return [Problem(path, f"the id's prefix '{prefix}' is not the step's type '{kind}'")]
    return []


def _next(path: str, spec: Mapping[str, Any], kind: str) -> list[Problem]:
    problems = []
    branches = [k for k in ("on_success", "on_failure") if k in spec]
    if "on_completion" in spec and branches:
        problems.append(
            Problem(
                prop(path, "on_completion"),
                "give either on_completion or on_success/on_failure, never both",
            )
        )
    if kind == "start" and branches:
        problems.append(
            Problem(
                prop(path, branches[0]),
                "a start step has no on_success/on_failure: use on_completion",
            )
        )
    if kind == "end":
        problems += [Problem(prop(path, k), "an end step has no next step")
                     for k in ("on_completion", *branches) if k in spec]  # fmt: skip
    return problems


def _by_type(
    document: Mapping[str, Any], path: str, spec: Mapping[str, Any], kind: str, scope: Scope
) -> list[Problem]:
    visible = scope.of_step(spec)
    if kind == "action":
        return check_action(document, path, spec, scope)
    if kind == "playbook-action":
        pid = spec.get("playbook_id")
        ok = isinstance(pid, str) and pid.startswith(PLAYBOOK_ID) and IDENTIFIER.match(pid)
        problems = [] if ok else [Problem(prop(path, "playbook_id"),
                                          "must be 'playbook--' followed by a UUID")]  # fmt: skip
        return problems + check_args(path, spec, scope)
    if kind == "parallel":
        steps = spec.get("next_steps")
        if not isinstance(steps, list) or len(steps) < 2:
            return [
                Problem(prop(path, "next_steps"), "a parallel step needs at least 2 next_steps")
            ]
        return []
    if kind in ("if-condition", "while-condition"):
        problems = []
        condition = spec.get("condition")
        if not text(condition):
            problems.append(Problem(prop(path, "condition"), "must be a non-empty string"))
        else:
            problems += undeclared(prop(path, "condition"), condition, visible)
            problems += _check_condition(prop(path, "condition"), str(condition))
        if "on_true" not in spec:
            problems.append(Problem(prop(path, "on_true"), "required property missing"))
        return problems
    if kind == "switch-condition":
        return _switch(path, spec, visible)
    return []


def _switch(path: str, spec: Mapping[str, Any], visible: Visible) -> list[Problem]:
    problems = []
    switch = spec.get("switch")
    if not text(switch):
        problems.append(Problem(prop(path, "switch"), "must be a non-empty string"))
    elif VARIABLE_NAME.match(str(switch)) and switch not in visible:
        problems.append(Problem(prop(path, "switch"), f"variable {switch} is not declared"))
    else:
        problems += undeclared(prop(path, "switch"), switch, visible)
    cases = mapping(spec.get("cases"))
    if not cases:
        problems.append(Problem(prop(path, "cases"), "must be a non-empty object: value → step"))
    return problems


# ---------------------------------------------------------------- the playbook's pointers
def _start_and_exception(document: Mapping[str, Any], workflow: Mapping[str, Any]) -> list[Problem]:
    problems = []
    start = document.get("workflow_start")
    if (
        isinstance(start, str)
        and start in workflow
        and ((mapping(workflow[start]) or {}).get("type") != "start")
    ):
        problems.append(Problem("$.workflow_start", "must be the id of a step of type start"))
    if "workflow_exception" in document:
        target = document["workflow_exception"]
        if not isinstance(target, str) or target not in workflow:
            problems.append(
                Problem("$.workflow_exception", f"{target!r} is not a step of the workflow")
            )
    return problems


# ---------------------------------------------------------------- the graph
def _graph(document: Mapping[str, Any], workflow: Mapping[str, Any]) -> list[Problem]:
    steps = {k: s for k, s in workflow.items() if isinstance(k, str) and mapping(s) is not None}
    edges: dict[str, list[str]] = {}
    bounded: dict[str, list[str]] = {}  # without the on_true edges of while-condition steps
    for key, step in steps.items():
        edges[key], bounded[key] = [], []
        while_step = step.get("type") == "while-condition"
        for _, target, name in pointers(key, step):
            if isinstance(target, str) and target in steps:
                edges[key].append(target)
                if not (while_step and name == "on_true"):
                    bounded[key].append(target)
    roots = [r for r in (document.get("workflow_start"), document.get("workflow_exception"))
             if isinstance(r, str) and r in steps]  # fmt: skip
    problems = []
    if roots:
        reached = _reach(roots, edges)
        problems += [Problem(at("$.workflow", k), "not reachable from workflow_start")
                     for k in steps if k not in reached]  # fmt: skip
    reverse: dict[str, list[str]] = {k: [] for k in steps}
    for key, targets in edges.items():
        for target in targets:
            reverse[target].append(key)
    ends = [k for k, s in steps.items() if s.get("type") == "end"]
    ending = _reach(ends, reverse)
    problems += [Problem(at("$.workflow", k), "no end step is reachable from this step")
                 for k in steps if k not in ending]  # fmt: skip
    order = {k: i for i, k in enumerate(steps)}
    for cycle in _cycles(bounded):
        members = sorted(cycle, key=order.__getitem__)
        shown = ", ".join(members[:MAX_LISTED]) + (", …" if len(members) > MAX_LISTED else "")
        problems.append(
            Problem(
                at("$.workflow", members[0]),
                f"unbounded cycle through {shown}: "
                "only a while-condition's on_true branch may loop back",
            )
        )
    return problems


def _reach(roots: list[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen, todo = set(roots), list(roots)
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _cycles(edges: Mapping[str, list[str]]) -> list[set[str]]:
    """The strongly connected components that hold a cycle (Tarjan, iterative: a document of
    thousands of steps never hits the recursion limit)."""
    tarjan = _Tarjan(edges)
    for root in edges:
        if root not in tarjan.index:
            tarjan.visit(root)
    return tarjan.found


class _Tarjan:
    def __init__(self, edges: Mapping[str, list[str]]) -> None:
        self.edges = edges
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.on_stack: set[str] = set()
        self.found: list[set[str]] = []

    def visit(self, root: str) -> None:
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                self.index[node] = self.low[node] = len(self.index)
                self.stack.append(node)
                self.on_stack.add(node)
            targets = self.edges[node]
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in self.index:
                    work.append((target, 0))
                elif target in self.on_stack:
                    self.low[node] = min(self.low[node], self.index[target])
                continue
            if self.low[node] == self.index[node]:
                component = _pop_component(node, self.stack, self.on_stack)
                if len(component) > 1 or node in targets:
                    self.found.append(component)
            if work:
                parent = work[-1][0]
                self.low[parent] = min(self.low[parent], self.low[node])


def _pop_component(node: str, stack: list[str], on_stack: set[str]) -> set[str]:
    component = set()
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.add(member)
        if member == node:
            return component
