"""Building broken and valid CACAO documents for the ``validate`` tests: the kit's three steps
(start, action, end), JSON paths of steps, and small edits (an action's fields, a command, a new
step, a branch, a renamed step)."""

from __future__ import annotations

from typing import Any

from tests.playbooks.cacao_kit import sid

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
