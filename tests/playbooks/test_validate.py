"""``validate``: one broken document per rule, each problem at its exact JSON path; every
problem is reported (never only the first); valid shapes — while loops, SOARCA-style branches,
x-vigie outputs and Vigie's context variables in conditions — have none."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from playbooks.rules.validate import Problem, validate
from tests.playbooks.cacao_kit import CERT_GROUP, document, sid
from tests.playbooks.oasis import oasis_problems

Doc = dict[str, Any]
NOT_RUN = "Vigie does not run ssh commands: only manual, http-api and x-vigie"


def steps(doc: Doc) -> tuple[str, str, str]:
    start, action, end = list(doc["workflow"])[:3]  # the kit's three steps come first
    return start, action, end


def w(key: str) -> str:
    return f"$.workflow['{key}']"


def action(doc: Doc) -> dict[str, Any]:
    return dict(doc["workflow"][steps(doc)[1]])


def with_action(doc: Doc, **changes: Any) -> Doc:
    key = steps(doc)[1]
    doc["workflow"][key] = {**doc["workflow"][key], **changes}
    return doc


def with_command(doc: Doc, command: dict[str, Any]) -> Doc:
    return with_action(doc, commands=[command])


def add_step(doc: Doc, kind: str, **spec: Any) -> str:
    key = sid(kind)
    doc["workflow"][key] = {"type": kind, **spec}
    return key


def rename(doc: Doc, old: str, new: str) -> Doc:
    doc["workflow"] = {(new if k == old else k): v for k, v in doc["workflow"].items()}
    for step in doc["workflow"].values():
        for key, value in list(step.items()):
            if value == old:
                step[key] = new
    if doc["workflow_start"] == old:
        doc["workflow_start"] = new
    return doc


def branch(doc: Doc, kind: str, **spec: Any) -> str:
    """A ``kind`` step between start and the action."""
    start, act, _ = steps(doc)
    key = add_step(doc, kind, **spec)
    doc["workflow"][start]["on_completion"] = key
    return key


# ---------------------------------------------------------------- one rule, one path
def case_missing_name(d: Doc) -> tuple[str, str]:
    del d["name"]
    return "$.name", "required property missing"


def case_type(d: Doc) -> tuple[str, str]:
    d["type"] = "bundle"
    return "$.type", "must be 'playbook'"


def case_spec_version(d: Doc) -> tuple[str, str]:
    d["spec_version"] = "cacao-1.0"
    return "$.spec_version", "must be 'cacao-2.0'"


def case_id(d: Doc) -> tuple[str, str]:
    d["id"] = "playbook--not-a-uuid"
    return "$.id", "'playbook--' followed by a UUID"


def case_timestamp(d: Doc) -> tuple[str, str]:
    d["created"] = "2026-11-01 08:00"
    return "$.created", "RFC 3339"


def case_modified_before_created(d: Doc) -> tuple[str, str]:
    d["modified"] = "2025-10-01T08:00:00Z"
    return "$.modified", "must not be earlier than created"


def case_workflow_start_missing_step(d: Doc) -> tuple[str, str]:
    d["workflow_start"] = sid("start")
    return "$.workflow_start", "must be the id of a step of the workflow"


def case_workflow_start_not_start(d: Doc) -> tuple[str, str]:
    d["workflow_start"] = steps(d)[1]
    return "$.workflow_start", "must be the id of a step of type start"


def case_step_id_prefix(d: Doc) -> tuple[str, str]:
    new = f"end--{uuid.uuid4()}"
    rename(d, steps(d)[1], new)
    return w(new), "the id's prefix 'end' is not the step's type 'action'"


def case_step_id_format(d: Doc) -> tuple[str, str]:
    rename(d, steps(d)[1], "action-1")
    return w("action-1"), "a step id is 'action--' followed by a UUID"


def case_step_type(d: Doc) -> tuple[str, str]:
    key = steps(d)[1]
    d["workflow"][key]["type"] = "loop"
    return w(key) + ".type", "unknown step type 'loop'"


def case_completion_and_success(d: Doc) -> tuple[str, str]:
    with_action(d, on_success=steps(d)[2])
    return w(steps(d)[1]) + ".on_completion", "either on_completion or on_success/on_failure"


def case_start_with_branches(d: Doc) -> tuple[str, str]:
    start = steps(d)[0]
    d["workflow"][start] = {"type": "start", "on_success": steps(d)[1]}
    return w(start) + ".on_success", "a start step has no on_success/on_failure"


def case_end_with_next(d: Doc) -> tuple[str, str]:
    end = steps(d)[2]
    d["workflow"][end]["on_completion"] = steps(d)[1]
    return w(end) + ".on_completion", "an end step has no next step"


def case_dangling_pointer(d: Doc) -> tuple[str, str]:
    missing = sid("end")
    with_action(d, on_completion=missing)
    return w(steps(d)[1]) + ".on_completion", f"'{missing}' is not a step of the workflow"


def case_dangling_on_failure(d: Doc) -> tuple[str, str]:
    missing = sid("end")
    act = d["workflow"][steps(d)[1]]
    del act["on_completion"]
    with_action(d, on_success=steps(d)[2], on_failure=missing)
    return w(steps(d)[1]) + ".on_failure", "is not a step of the workflow"


def case_dangling_next_step(d: Doc) -> tuple[str, str]:
    missing = sid("action")
    key = branch(d, "parallel", next_steps=[steps(d)[1], missing])
    return w(key) + ".next_steps[1]", "is not a step of the workflow"


def case_parallel_one_branch(d: Doc) -> tuple[str, str]:
    key = branch(d, "parallel", next_steps=[steps(d)[1]])
    return w(key) + ".next_steps", "at least 2 next_steps"


def case_if_without_condition(d: Doc) -> tuple[str, str]:
    key = branch(d, "if-condition", on_true=steps(d)[1], condition="  ")
    return w(key) + ".condition", "must be a non-empty string"


def case_while_without_on_true(d: Doc) -> tuple[str, str]:
    key = branch(d, "while-condition", condition="x", on_completion=steps(d)[1])
    return w(key) + ".on_true", "required property missing"


def case_switch_without_cases(d: Doc) -> tuple[str, str]:
    key = branch(d, "switch-condition", switch="__incident_priority__:value",
                 on_completion=steps(d)[1])  # fmt: skip
    return w(key) + ".cases", "must be a non-empty object"


def case_switch_case_dangling(d: Doc) -> tuple[str, str]:
    key = branch(d, "switch-condition", switch="__incident_priority__:value",
                 cases={"P1": steps(d)[1], "P2": "action--nowhere"})  # fmt: skip
    return w(key) + ".cases['P2']", "'action--nowhere' is not a step of the workflow"


def case_switch_undeclared(d: Doc) -> tuple[str, str]:
    key = branch(d, "switch-condition", switch="__level__", cases={"1": steps(d)[1]})
    return w(key) + ".switch", "variable __level__ is not declared"


def case_workflow_exception(d: Doc) -> tuple[str, str]:
    d["workflow_exception"] = "end--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"
    return "$.workflow_exception", "is not a step of the workflow"


def case_unreachable(d: Doc) -> tuple[str, str]:
    orphan = add_step(d, "end")
    return w(orphan), "not reachable from workflow_start"


def case_no_end(d: Doc) -> tuple[str, str]:
    key = steps(d)[1]
    del d["workflow"][key]["on_completion"]
    return w(key), "no end step is reachable from this step"


def case_unbounded_cycle(d: Doc) -> tuple[str, str]:
    start, act, end = steps(d)
    other = add_step(d, "action", agent=CERT_GROUP, on_success=act, on_failure=end,
                     commands=[{"type": "manual", "command": "Check again"}])  # fmt: skip
    with_action(d, on_completion=other)
    return w(act), f"unbounded cycle through {act}, {other}"


def case_cycle_through_while_exit(d: Doc) -> tuple[str, str]:
    start, act, end = steps(d)
    loop = branch(d, "while-condition", condition="__incident_status__:value = 'open'",
                  on_true=act, on_completion=act)  # fmt: skip
    with_action(d, on_success=loop, on_failure=end)
    del d["workflow"][act]["on_completion"]
    return w(act), f"unbounded cycle through {act}, {loop}"


def case_no_commands(d: Doc) -> tuple[str, str]:
    with_action(d, commands=[])
    return w(steps(d)[1]) + ".commands", "needs a list of commands"


def case_agent_missing(d: Doc) -> tuple[str, str]:
    del d["workflow"][steps(d)[1]]["agent"]
    return w(steps(d)[1]) + ".agent", "required property missing"


def case_agent_undefined(d: Doc) -> tuple[str, str]:
    with_action(d, agent="individual--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51")
    return w(steps(d)[1]) + ".agent", "is not a key of agent_definitions"


def case_target_undefined(d: Doc) -> tuple[str, str]:
    with_action(d, targets=["organization--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"])
    return w(steps(d)[1]) + ".targets[0]", "is not a key of target_definitions"


def case_unknown_command(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "telnet", "command": "x"})
    return w(steps(d)[1]) + ".commands[0].type", "unknown command type 'telnet'"


def case_ssh(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "ssh", "command": "reboot"})
    return w(steps(d)[1]) + ".commands[0].type", NOT_RUN


def case_manual_empty(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual"})
    return w(steps(d)[1]) + ".commands[0]", "needs command or command_b64"


def case_manual_b64(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual", "command_b64": "not base64!"})
    return w(steps(d)[1]) + ".commands[0].command_b64", "must be valid base64"


def case_http_line(d: Doc) -> tuple[str, str]:
    d["agent_definitions"]["http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"] = {
        "type": "http-api", "address": {"dname": ["soc.example"]}}  # fmt: skip
    with_action(d, agent="http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51",
                commands=[{"type": "http-api", "command": "FETCH api/block"}])  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].command", "must be an HTTP request line"


def case_http_agent(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "http-api", "command": "POST /api/block HTTP/1.1"})
    return w(steps(d)[1]) + ".agent", "an agent or a target of type http-api with an address"


def case_http_header(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "http-api", "command": "GET / HTTP/1.1", "headers": {"X": [1]}})
    return w(steps(d)[1]) + ".commands[0].headers['X']", "must be a list of strings"


def case_vigie_unknown_action(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "format-disk", "arguments": {}})
    return w(steps(d)[1]) + ".commands[0].command", "unknown Vigie action 'format-disk'"


def case_vigie_missing_argument(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task", "arguments": {}})
    return w(steps(d)[1]) + ".commands[0].arguments.title", "required argument of add-task"


def case_vigie_unknown_argument(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task",
                     "arguments": {"title": "t", "colour": "red"}})  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].arguments.colour", "unknown argument of add-task"


def case_vigie_argument_type(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task",
                     "arguments": {"title": "t", "due_hours": "24"}})  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].arguments.due_hours", "must be an integer"


def case_vigie_arguments_not_object(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task", "arguments": ["t"]})
    return w(steps(d)[1]) + ".commands[0].arguments", "must be an object"


def case_variable_name(d: Doc) -> tuple[str, str]:
    d["playbook_variables"] = {"target": {"type": "string"}}
    return "$.playbook_variables['target']", "a variable name is __name__"


def case_variable_type(d: Doc) -> tuple[str, str]:
    d["playbook_variables"] = {"__target__": {"type": "text"}}
    return "$.playbook_variables['__target__'].type", "must be one of"


def case_variable_value(d: Doc) -> tuple[str, str]:
    d["playbook_variables"] = {"__tries__": {"type": "integer", "value": 0}}
    return "$.playbook_variables['__tries__'].value", "must be a string (CACAO values are text)"


def case_step_variable_type(d: Doc) -> tuple[str, str]:
    with_action(d, step_variables={"__x__": {"type": "blob"}})
    return w(steps(d)[1]) + ".step_variables['__x__'].type", "must be one of"


def case_undeclared_in_command(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual", "command": "Block __suspect_ip__:value"})
    return w(steps(d)[1]) + ".commands[0].command", "variable __suspect_ip__ is not declared"


def case_undeclared_legacy(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual", "command": "Block $$suspect_ip$$"})
    return w(steps(d)[1]) + ".commands[0].command", "variable __suspect_ip__ is not declared"


def case_undeclared_in_argument(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "notify-leads",
                     "arguments": {"message": "Hits: __hitz__:value"}})  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].arguments.message", "variable __hitz__ is not declared"


def case_undeclared_in_header(d: Doc) -> tuple[str, str]:
    d["target_definitions"] = {"http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51": {
        "type": "http-api", "address": {"url": ["https://soc.example/"]}}}  # fmt: skip
    with_action(d, targets=["http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"],
                commands=[{"type": "http-api", "command": "GET /x HTTP/1.1",
                           "headers": {"Authorization": ["Bearer __token__:value"]}}])  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].headers['Authorization']", "__token__ is not declared"


def case_undeclared_in_condition(d: Doc) -> tuple[str, str]:
    key = branch(d, "if-condition", condition="__score__:value > 5", on_true=steps(d)[1],
                 on_false=steps(d)[2])  # fmt: skip
    return w(key) + ".condition", "variable __score__ is not declared"


def case_in_args(d: Doc) -> tuple[str, str]:
    with_action(d, in_args=["__nothing__"])
    return w(steps(d)[1]) + ".in_args[0]", "'__nothing__' is not a declared variable"


def case_out_args(d: Doc) -> tuple[str, str]:
    with_action(d, out_args=["__result__"])
    return w(steps(d)[1]) + ".out_args[0]", "'__result__' is not a declared variable"


def case_playbook_action_id(d: Doc) -> tuple[str, str]:
    key = branch(d, "playbook-action", playbook_id="other-playbook", on_completion=steps(d)[1])
    return w(key) + ".playbook_id", "must be 'playbook--' followed by a UUID"


def case_playbook_types(d: Doc) -> tuple[str, str]:
    d["playbook_types"] = "investigation"
    return "$.playbook_types", "must be a list of strings"


def case_revoked(d: Doc) -> tuple[str, str]:
    d["revoked"] = "no"
    return "$.revoked", "must be true or false"


def case_unknown_property(d: Doc) -> tuple[str, str]:
    d["workflow_starts"] = d["workflow_start"]
    return "$.workflow_starts", "unknown property (did you mean 'workflow_start'?)"


def case_unknown_step_property(d: Doc) -> tuple[str, str]:
    with_action(d, **{"on-failure": steps(d)[2]})
    return w(steps(d)[1]) + "['on-failure']", "did you mean 'on_failure'?"


def case_step_not_object(d: Doc) -> tuple[str, str]:
    key = add_step(d, "end")
    d["workflow"][key] = "end"
    return w(key), "a step is an object with a type"


def case_delay(d: Doc) -> tuple[str, str]:
    with_action(d, delay=-5)
    return w(steps(d)[1]) + ".delay", "whole number of milliseconds"


CASES: list[Callable[[Doc], tuple[str, str]]] = [
    value for name, value in dict(globals()).items() if name.startswith("case_")
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.removeprefix("case_") for c in CASES])
def test_each_rule_names_its_path(case: Callable[[Doc], tuple[str, str]]) -> None:
    doc = document()
    path, fragment = case(doc)
    problems = validate(doc)
    assert any(p.path == path and fragment in p.message for p in problems), (
        f"expected {path}: …{fragment}… in {[str(p) for p in problems]}"
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
