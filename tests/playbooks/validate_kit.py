"""Building broken and valid CACAO documents for the ``validate`` tests: the kit's three steps
(start, action, end), JSON paths of steps, and small edits (an action's fields, a command, a new
step, a branch, a renamed step); and the one-broken-document-per-rule cases (``case_*``
functions of a test module, each giving the path and a fragment of the problem expected)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from playbooks.rules.validate import validate
from tests.playbooks.cacao_kit import document, sid

Doc = dict[str, Any]
Case = Callable[[Doc], tuple[str, str]]
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


def cases_of(namespace: Mapping[str, Any]) -> list[Case]:
    """A test module's ``case_*`` functions, in their order."""
    return [value for name, value in dict(namespace).items() if name.startswith("case_")]


def each_case(cases: list[Case]) -> pytest.MarkDecorator:
    """Parametrise a test over ``cases``, each named after its function."""
    return pytest.mark.parametrize(
        "case", cases, ids=[c.__name__.removeprefix("case_") for c in cases]
    )


def assert_names_its_path(case: Case) -> None:
    """The kit's document broken by ``case`` gets the problem expected, at its exact path."""
    doc = document()
    path, fragment = case(doc)
    problems = validate(doc)
    assert any(p.path == path and fragment in p.message for p in problems), (
        f"expected {path}: …{fragment}… in {[str(p) for p in problems]}"
    )
