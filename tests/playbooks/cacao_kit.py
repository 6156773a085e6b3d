"""CACAO documents for the playbook tests: :func:`document` builds a small valid playbook
(start → one action → end) that a test changes; :func:`sid` makes step ids."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

CERT_GROUP = "group--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"


def sid(kind: str) -> str:
    """A fresh ``<kind>--<uuid4>`` identifier."""
    return f"{kind}--{uuid.uuid4()}"


def document(
    *,
    pid: str | None = None,
    modified: str = "2026-11-01T08:00:00.000Z",
    types: tuple[str, ...] = ("investigation",),
    commands: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    start, action, end = sid("start"), sid("action"), sid("end")
    doc: dict[str, Any] = {
        "type": "playbook",
        "spec_version": "cacao-2.0",
        "id": pid or sid("playbook"),
        "name": "Test playbook",
        "description": "A playbook of the test suite.",
        "playbook_types": list(types),
        "created_by": "identity--5abe695c-7bd5-4c31-8824-2528696cdbf1",
        "created": "2026-01-01T08:00:00.000Z",  # before any test's `modified`
        "modified": modified,
        "workflow_start": start,
        "workflow": {
            start: {"type": "start", "on_completion": action},
            action: {
                "type": "action",
                "name": "Contain",
                "agent": CERT_GROUP,
                "commands": commands
                or [{"type": "manual", "command": "Isolate the affected hosts"}],
                "on_completion": end,
            },
            end: {"type": "end"},
        },
        "agent_definitions": {CERT_GROUP: {"type": "group", "name": "CERT analysts"}},
    }
    doc.update(copy.deepcopy(extra))
    return doc


def text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)
