"""``validate``, one broken document per rule of a playbook's structure — its properties, ids and
dates, the workflow's steps, pointers, branches, reachability and cycles — each problem at its
exact JSON path."""

from __future__ import annotations

import uuid

from tests.playbooks.cacao_kit import CERT_GROUP, sid
from tests.playbooks.validate_kit import (
    Case,
    Doc,
    add_step,
    assert_names_its_path,
    branch,
    cases_of,
    each_case,
    rename,
    steps,
    w,
    with_action,
)


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


CASES = cases_of(globals())


@each_case(CASES)
def test_each_rule_names_its_path(case: Case) -> None:
    assert_names_its_path(case)
