"""Import reads conditions with the engine's grammar: one it could not evaluate is refused
with its path; the conditions other CACAO tools write are accepted."""

from __future__ import annotations

import copy

from playbooks.rules.validate import validate
from tests.playbooks.cacao_kit import document, sid


def with_if(condition: str) -> tuple[dict, str]:
    doc = document(playbook_variables={"__n__": {"type": "integer", "value": "0"}})
    start = doc["workflow_start"]
    action = doc["workflow"][start]["on_completion"]
    branch_end = sid("end")
    step = sid("if-condition")
    doc["workflow"][step] = {
        "type": "if-condition",
        "condition": condition,
        "on_true": branch_end,
        "on_completion": action,
    }
    doc["workflow"][branch_end] = {"type": "end"}
    doc["workflow"][start]["on_completion"] = step
    return copy.deepcopy(doc), step


def test_a_condition_the_engine_cannot_read_is_refused_with_its_path() -> None:
    doc, step = with_if("__n__:value >= ")
    problems = validate(doc)
    assert [p.path for p in problems] == [f"$.workflow['{step}'].condition"], problems
    assert "position" in problems[0].message


def test_conditions_as_other_tools_write_them_are_accepted() -> None:
    for condition in ("__n__:value <= 10", "__n__:value", "NOT (__n__:value IN ('1', '2'))"):
        doc, _ = with_if(condition)
        assert validate(doc) == [], condition
