"""Validation of a CACAO 2.0 playbook document (pure): every problem with its JSON path.

:func:`validate` returns the problems of a parsed document (empty: valid); import stores
nothing from a document with a problem. It never stops at the first problem:

* the playbook's own properties (required ones, ``type``, ``spec_version``, ``id``,
  timestamps, ``playbook_types``, ``revoked``, unknown properties with the name they likely
  misspell), its variables and its agent and target definitions (here);
* each step and the graph of the workflow (:mod:`playbooks.rules.workflowcheck`);
* the commands of action steps, their agents and targets, and every variable reference
  (:mod:`playbooks.rules.commandcheck`): Vigie runs ``manual``, ``http-api`` and ``x-vigie``
  commands only, and says so about the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from playbooks.rules.cacao import IDENTIFIER, SPEC_VERSION
from playbooks.rules.commandcheck import variable_declarations
from playbooks.rules.problems import Problem, at, mapping, prop, text, unknown_properties
from playbooks.rules.workflowcheck import check_workflow

__all__ = ["Problem", "REQUIRED", "timestamp", "validate"]

REQUIRED = ("type", "spec_version", "id", "name", "created_by", "created", "modified",
            "workflow_start", "workflow")  # fmt: skip
PROPERTIES = frozenset({*REQUIRED, "description", "playbook_types", "playbook_activities",
    "playbook_processing_summary", "revoked", "valid_from", "valid_until", "derived_from",
    "related_to", "priority", "severity", "impact", "industry_sectors", "labels",
    "external_references", "markings", "playbook_variables", "workflow_exception",
    "playbook_extensions", "authentication_info_definitions", "agent_definitions",
    "target_definitions", "extension_definitions", "data_marking_definitions",
    "signatures"})  # fmt: skip
DEFINITIONS = ("agent_definitions", "target_definitions", "authentication_info_definitions",
               "data_marking_definitions", "extension_definitions")  # fmt: skip
STRING_LISTS = ("playbook_types", "playbook_activities", "labels", "industry_sectors",
                "derived_from", "markings")  # fmt: skip


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
    problems += _times(document)
    problems += unknown_properties("$", document, PROPERTIES)
    problems += _properties(document)
    problems += variable_declarations("$.playbook_variables", document.get("playbook_variables"))
    workflow = mapping(document.get("workflow"))
    if workflow:
        problems += check_workflow(document, workflow)
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
    if "name" in document and not text(document["name"]):
        problems.append(Problem("$.name", "must be a non-empty string"))
    creator = document.get("created_by")
    if "created_by" in document and not (isinstance(creator, str) and IDENTIFIER.match(creator)):
        problems.append(Problem("$.created_by", "must be an identity id: 'identity--' and a UUID"))
    workflow = document.get("workflow")
    if "workflow" in document and not (isinstance(workflow, Mapping) and workflow):
        problems.append(Problem("$.workflow", "must be a non-empty object of steps"))
    start = document.get("workflow_start")
    if (
        isinstance(workflow, Mapping)
        and "workflow_start" in document
        and (not isinstance(start, str) or start not in workflow)
    ):
        problems.append(Problem("$.workflow_start", "must be the id of a step of the workflow"))
    return problems


def _times(document: Mapping[str, Any]) -> list[Problem]:
    problems = []
    when: dict[str, dt.datetime] = {}
    for key in ("created", "modified", "valid_from", "valid_until"):
        if key not in document:
            continue
        value = timestamp(document[key])
        if value is None:
            problems.append(Problem(f"$.{key}", "must be an RFC 3339 timestamp with a time zone"))
        else:
            when[key] = value
    for early, late in (("created", "modified"), ("valid_from", "valid_until")):
        if early in when and late in when and when[late] < when[early]:
            problems.append(Problem(f"$.{late}", f"must not be earlier than {early}"))
    return problems


def _properties(document: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for key in STRING_LISTS:
        value = document.get(key)
        if key in document and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            problems.append(Problem(f"$.{key}", "must be a list of strings"))
    if "revoked" in document and not isinstance(document["revoked"], bool):
        problems.append(Problem("$.revoked", "must be true or false"))
    if "description" in document and not isinstance(document["description"], str):
        problems.append(Problem("$.description", "must be a string"))
    for key in ("priority", "severity", "impact"):
        value = document.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            problems.append(Problem(f"$.{key}", "must be a whole number from 0 to 100"))
    return problems + _definitions(document)


def _definitions(document: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for key in DEFINITIONS:
        if key not in document:
            continue
        definitions = mapping(document[key])
        if definitions is None:
            problems.append(Problem(f"$.{key}", "must be an object: id → definition"))
            continue
        for name, definition in definitions.items():
            spec = mapping(definition)
            if spec is None or not text(spec.get("type")):
                problems.append(
                    Problem(
                        prop(at(f"$.{key}", name), "type"), "a definition is an object with a type"
                    )
                )
    return problems
