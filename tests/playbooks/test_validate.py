"""``validate``: every problem is reported (never only the first); valid shapes — while loops,
SOARCA-style branches, x-vigie outputs and Vigie's context variables in conditions — have none;
no value anywhere raises. One broken document per rule: ``test_validate_structure.py`` and
``test_validate_commands.py``."""

from __future__ import annotations

import json
from typing import Any

from playbooks.rules.validate import Problem, validate
from tests.playbooks.cacao_kit import CERT_GROUP, document, sid
from tests.playbooks.oasis import oasis_problems
from tests.playbooks.validate_kit import (
    add_step,
    branch,
    steps,
    w,
    with_action,
    with_command,
)


def test_every_problem_is_reported_not_only_the_first() -> None:
    doc = document()
    start, act, end = steps(doc)
    doc["spec_version"] = "cacao-1.1"
    del doc["name"]
    with_action(doc, agent="group--nope", commands=[{"type": "ssh", "command": "x"},
                                                    {"type": "manual"}])  # fmt: skip
    doc["workflow"][end]["on_completion"] = start
    paths = [p.path for p in validate(doc)]
    assert {"$.name", "$.spec_version", w(act) + ".agent", w(act) + ".commands[0].type",
            w(act) + ".commands[1]", w(end) + ".on_completion"} <= set(paths)  # fmt: skip


def test_the_exact_refusal_of_a_command_vigie_does_not_run() -> None:
    doc = with_command(document(), {"type": "powershell", "command": "Get-Process"})
    assert validate(doc) == [
        Problem(
            w(steps(doc)[1]) + ".commands[0].type",
            "Vigie does not run powershell commands: only manual, http-api and x-vigie",
        )
    ]


# ---------------------------------------------------------------- valid shapes
def test_a_while_loop_back_from_its_on_true_branch_is_bounded() -> None:
    doc = document(playbook_variables={"__tries__": {"type": "integer", "value": "0"}})
    start, act, end = steps(doc)
    loop = branch(doc, "while-condition", condition="__tries__:value < 3", on_true=act,
                  on_completion=end)  # fmt: skip
    with_action(doc, on_completion=loop)
    assert validate(doc) == []
    assert oasis_problems(doc) == []


def test_branches_ending_in_their_own_end_steps_and_outputs_feeding_conditions() -> None:
    doc = document(types=("detection",))
    start, act, end = steps(doc)
    check = add_step(doc, "action", agent=CERT_GROUP, on_completion=None, out_args=["__hits__"],
                     commands=[{"type": "x-vigie", "command": "exposure-check",
                                "arguments": {"notify": True}}])  # fmt: skip
    decide = add_step(doc, "if-condition", condition="__hits__:value > 0", on_true=act,
                      on_false=sid("end"), on_completion=end)  # fmt: skip
    other_end = add_step(doc, "end")
    doc["workflow"][decide]["on_false"] = other_end
    doc["workflow"][check]["on_completion"] = decide
    doc["workflow"][start]["on_completion"] = check
    with_command(doc, {"type": "manual", "command": "Call __organisation_name__:value about "
                       "__hits__:value hits ($$incident_reference$$)"})  # fmt: skip
    doc["workflow"][act]["description"] = "Undeclared __here__:value is only text"
    assert validate(doc) == []
    assert oasis_problems(doc) == []


def test_not_an_object_and_huge_workflows() -> None:
    assert validate(["playbook"]) == [Problem("$", "a playbook is a JSON object")]
    doc = document()
    start, act, end = steps(doc)
    previous = start
    for _ in range(3000):  # a long chain: no recursion limit, every step checked
        key = add_step(doc, "action", agent=CERT_GROUP,
                       commands=[{"type": "manual", "command": "é\u202e✓"}])  # fmt: skip
        doc["workflow"][previous]["on_completion"] = key
        previous = key
    doc["workflow"][previous]["on_completion"] = act
    assert validate(doc) == []


def _places(node: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [trail]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _places(value, (*trail, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _places(value, (*trail, index))
    return found


def test_any_value_anywhere_gives_problems_never_an_exception() -> None:
    base = document(playbook_variables={"__x__": {"type": "string", "value": "v"}})
    start, act, end = steps(base)
    branch(base, "switch-condition", switch="__x__:value", cases={"a": act})
    commands = [
        {"type": "x-vigie", "command": "add-task", "arguments": {"title": "t"}},
        {"type": "http-api", "command": "GET / HTTP/1.1", "headers": {"A": ["b"]}},
    ]
    targets = ["individual--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"]
    with_action(base, targets=targets, in_args=["__x__"], commands=commands)
    for trail in _places(base)[1:]:
        for odd in ([], {}, None, 1.5, True, "", ["x", {}], {"type": []}):
            doc = json.loads(json.dumps(base))
            holder = doc
            for part in trail[:-1]:
                holder = holder[part]
            holder[trail[-1]] = odd
            assert isinstance(validate(doc), list)
