"""Validation of a CACAO 2.0 playbook document (pure): every problem with its JSON path.

:func:`validate` returns the problems of a parsed document (empty: valid). Import stores
nothing from a document with a problem. This module grows the full check list of issue 19
(references between steps, reachable ends, loops, step and command types, variables declared
before use, the x-vigie vocabulary); the foundation checks the playbook's own properties.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playbooks.rules.cacao import IDENTIFIER, SPEC_VERSION


@dataclass(frozen=True)
class Problem:
    path: str  # JSON path: "$.workflow['action--…'].commands[0].type"
    message: str  # English, one line

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


REQUIRED = ("type", "spec_version", "id", "name", "created_by", "created", "modified",
            "workflow_start", "workflow")  # fmt: skip


def timestamp(value: object) -> dt.datetime | None:
    """A CACAO timestamp (RFC 3339, UTC "Z" or an offset) as an aware UTC datetime, else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo is not None else None


def validate(document: object) -> list[Problem]:
    if not isinstance(document, Mapping):
        return [Problem("$", "a playbook is a JSON object")]
    problems = [Problem(f"$.{key}", "required property missing") for key in REQUIRED
                if key not in document]  # fmt: skip
    problems += _header(document)
    return problems


def _header(document: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if "type" in document and document["type"] != "playbook":
        problems.append(Problem("$.type", "must be 'playbook'"))
    if "spec_version" in document and document["spec_version"] != SPEC_VERSION:
        problems.append(Problem("$.spec_version", f"must be '{SPEC_VERSION}'"))
    pid = document.get("id")
    if "id" in document and not (
        isinstance(pid, str) and pid.startswith("playbook--") and IDENTIFIER.match(pid)
    ):
        problems.append(Problem("$.id", "must be 'playbook--' followed by a UUID"))
    for key in ("created", "modified"):
        if key in document and timestamp(document[key]) is None:
            problems.append(Problem(f"$.{key}", "must be an RFC 3339 timestamp with a time zone"))
    workflow = document.get("workflow")
    if "workflow" in document and not (isinstance(workflow, Mapping) and workflow):
        problems.append(Problem("$.workflow", "must be a non-empty object of steps"))
    start = document.get("workflow_start")
    if isinstance(workflow, Mapping) and "workflow_start" in document and start not in workflow:
        problems.append(Problem("$.workflow_start", "must be the id of a step of the workflow"))
    return problems
