"""How a CACAO run moves through its workflow (pure): the engine's state and its transitions.

A run's ``state`` (``PlaybookRun.state``, JSON) holds its **threads** of execution and its
**variables**::

    {"threads": [{"id": "", "at": "<step id>", "frames": ["<owner step id>", …],
                  "parent": None, "wait": None | {…}, "delayed": None | "<step id>"}],
     "variables": {"__name__": value, …},
     "failure": None | "why the run failed (set while its workflow_exception runs)"}

* ``frames`` are the sub-flows the thread is in: entering the ``on_true``/``on_false`` of an
  ``if-condition``, a case of a ``switch-condition`` or the body of a ``while-condition`` pushes
  the owning step; reaching an ``end`` pops it — back to the ``while-condition`` (evaluated
  again), or on to the owner's ``on_completion`` (if, switch). The ``end`` of the top level
  completes the run.
* a ``parallel`` step starts one thread per ``next_steps`` entry (``id`` "<parent>/<n>",
  ``parent`` the thread that waits for all of them, ``wait`` ``{"kind": "join", …}``); a
  branch's own ``end`` finishes its thread; when the last one finishes, the parent goes on to
  the parallel step's ``on_completion``.
* ``wait`` says why a thread does not move: ``delay`` (until a time), ``task`` (a manual
  command's task), ``child`` (a playbook-action's run), ``until`` (an executor's time),
  ``external`` (an outside call whose outcome is not recorded yet), ``join`` (parallel
  branches). The runner (:mod:`playbooks.engine.runner`) resolves them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from playbooks.rules.cacao import VARIABLE_NAME

Thread = dict[str, Any]
State = dict[str, Any]
MAX_SWITCH_CASES = 1000

_REFERENCE = re.compile(
    r"^\s*(?:(?P<cacao>__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__)(?::value)?"
    r"|\$\$(?P<legacy>[a-zA-Z_][a-zA-Z0-9_-]{0,199})\$\$)\s*$"
)


class FlowError(ValueError):
    """The document does not say where to go (a missing step, a malformed step)."""


def step_of(document: Mapping[str, Any], step_id: str) -> Mapping[str, Any]:
    step = (document.get("workflow") or {}).get(step_id)
    if not isinstance(step, Mapping):
        raise FlowError(f"no step {step_id!r} in the workflow")
    return step


def threads(state: State) -> list[Thread]:
    found: list[Thread] = state.setdefault("threads", [])
    return found


def thread_by_id(state: State, thread_id: str) -> Thread | None:
    return next((t for t in threads(state) if t["id"] == thread_id), None)


def successor(step: Mapping[str, Any], ok: bool) -> str | None:
    """Where a step goes next: ``on_success`` (else ``on_completion``) when it succeeded,
    ``on_failure`` when it failed (``None``: nowhere said)."""
    nxt = (step.get("on_success") or step.get("on_completion")) if ok else step.get("on_failure")
    return nxt if isinstance(nxt, str) and nxt else None


def move(thread: Thread, target: str) -> None:
    thread["at"] = target
    thread["wait"] = None
    thread["delayed"] = None


def enter(thread: Thread, owner: str, target: str) -> None:
    """Enter the sub-flow of ``owner`` (an if, while or switch step) at ``target``."""
    thread.setdefault("frames", []).append(owner)
    move(thread, target)


def leave(document: Mapping[str, Any], thread: Thread) -> Literal["continue", "done"]:
    """The thread reached an ``end``: back to the step owning the sub-flow it was in (a while
    is evaluated again; an if or a switch goes on to its ``on_completion``); ``"done"`` when it
    was in none (the end of a branch, or of the run)."""
    frames: list[str] = thread.setdefault("frames", [])
    while frames:
        owner = frames.pop()
        step = step_of(document, owner)
        if step.get("type") == "while-condition":
            move(thread, owner)
            return "continue"
        nxt = successor(step, True)
        if nxt is not None:
            move(thread, nxt)
            return "continue"
    return "done"


def spawn(thread: Thread, step: Mapping[str, Any]) -> list[Thread]:
    """The branches of the parallel ``step`` the thread is at: new threads; the thread waits for
    them (``join``)."""
    targets = step.get("next_steps")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise FlowError("a parallel step needs next_steps, a list of step ids")
    prefix = f"{thread['id']}/" if thread["id"] else ""
    children = [
        {"id": f"{prefix}{n}", "at": target, "frames": [], "parent": thread["id"],
         "wait": None, "delayed": None}
        for n, target in enumerate(targets, start=1)
    ]  # fmt: skip
    thread["wait"] = {"kind": "join", "threads": [c["id"] for c in children]}
    return children


def branch_done(state: State, thread: Thread) -> Thread | None:
    """Remove the finished branch ``thread``; its parent when this was the last branch it
    waited for (the caller moves it on), else ``None``."""
    threads(state).remove(thread)
    parent = thread_by_id(state, thread.get("parent") or "")
    if parent is None or not isinstance(parent.get("wait"), dict):
        return None
    waiting: list[str] = parent["wait"].get("threads", [])
    if thread["id"] in waiting:
        waiting.remove(thread["id"])
    if waiting:
        return None
    parent["wait"] = None
    return parent


def reference(text: object) -> str | None:
    """The variable name (``__name__``) a ``switch`` property refers to, else ``None``."""
    if not isinstance(text, str):
        return None
    match = _REFERENCE.match(text)
    if match is None:
        return None
    legacy = match.group("legacy")
    return f"__{legacy}__" if legacy is not None else match.group("cacao")


def case_target(step: Mapping[str, Any], value: str) -> str | None:
    """The step a ``switch-condition`` goes to for ``value``: its case, else ``default``."""
    cases = step.get("cases")
    if not isinstance(cases, Mapping) or len(cases) > MAX_SWITCH_CASES:
        raise FlowError("a switch-condition needs cases, an object of value → step id")
    target = cases.get(value, cases.get("default"))
    if isinstance(target, list):  # some tools write a list of one step id
        target = target[0] if target else None
    return target if isinstance(target, str) and target else None


def step_variables(step: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the step's own variables (``step_variables``)."""
    declared = step.get("step_variables")
    if not isinstance(declared, Mapping):
        return {}
    return {
        name: spec.get("value")
        for name, spec in declared.items()
        if isinstance(spec, Mapping) and VARIABLE_NAME.match(str(name))
    }


def scope(state: State, step: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The variables a step sees: the playbook's, its own, then Vigie's context ones (read
    only: they win)."""
    return {**state.get("variables", {}), **step_variables(step), **context}


def arg_names(step: Mapping[str, Any], key: str) -> list[str]:
    """The variable names of ``in_args`` / ``out_args`` (``__name__``; references accepted)."""
    raw = step.get(key)
    if not isinstance(raw, list):
        return []
    names = []
    for item in raw:
        name = reference(item)
        if name is not None:
            names.append(name)
    return names


def keep_outputs(
    state: State, outputs: Mapping[str, Any], names: list[str] | set[str]
) -> dict[str, Any]:
    """Store the ``outputs`` named in ``names`` as playbook variables; what was stored."""
    kept = {name: outputs[name] for name in names if name in outputs}
    state.setdefault("variables", {}).update(kept)
    return kept
