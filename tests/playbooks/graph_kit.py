"""Workflows for the graph and page tests: every step type in one document, a long one."""

from __future__ import annotations

from typing import Any

from tests.playbooks.cacao_kit import CERT_GROUP, document, sid


def action(name: str, nxt: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "action",
        "name": name,
        "agent": CERT_GROUP,
        "commands": [{"type": "manual", "command": f"Do: {name}"}],
        "on_completion": nxt,
        **extra,
    }


VARIABLES = {
    "__state__": {"type": "string", "value": "infected"},
    "__priority__": {"type": "string", "value": "P1"},
}


def every_step_type() -> tuple[dict[str, Any], dict[str, str]]:
    """start → if (true: parallel of two branches; false: switch with two cases) …, a while loop,
    a playbook-action, on_success/on_failure; returns the document and step ids by role."""
    ids = {k: sid(t) for k, t in (
        ("start", "start"), ("if", "if-condition"), ("par", "parallel"), ("a1", "action"),
        ("a2", "action"), ("end1", "end"), ("end2", "end"), ("switch", "switch-condition"),
        ("c1", "action"), ("c2", "action"), ("while", "while-condition"), ("body", "action"),
        ("sub", "playbook-action"), ("fix", "action"), ("end", "end"),
    )}  # fmt: skip
    workflow = {
        ids["start"]: {"type": "start", "on_completion": ids["if"]},
        ids["if"]: {
            "type": "if-condition",
            "name": "Ransomware?",
            "condition": "__state__:value = 'infected'",
            "on_true": ids["par"],
            "on_false": ids["switch"],
        },
        ids["par"]: {"type": "parallel", "name": "Both", "next_steps": [ids["a1"], ids["a2"]]},
        ids["a1"]: action("Isolate hosts", ids["end1"]),
        ids["a2"]: action("Warn the ministry", ids["end2"]),
        ids["end1"]: {"type": "end"},
        ids["end2"]: {"type": "end"},
        ids["switch"]: {
            "type": "switch-condition",
            "name": "Priority",
            "switch": "__priority__:value",
            "cases": {"P1": ids["c1"], "default": ids["c2"]},
        },
        ids["c1"]: action("Call the lead", ids["while"]),
        ids["c2"]: action("Queue it", ids["while"]),
        ids["while"]: {
            "type": "while-condition",
            "name": "Still infected",
            "condition": "__state__:value = 'infected'",
            "on_true": ids["body"],
            "on_completion": ids["sub"],
        },
        ids["body"]: action("Clean one host", ids["while"]),
        ids["sub"]: {
            "type": "playbook-action",
            "name": "Notify",
            "playbook_id": "playbook--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a52",
            "on_success": ids["end"],
            "on_failure": ids["fix"],
        },
        ids["fix"]: action("Notify by hand", ids["end"]),
        ids["end"]: {"type": "end"},
    }
    return document(
        workflow=workflow, workflow_start=ids["start"], playbook_variables=VARIABLES
    ), ids


def long_chain(count: int = 60) -> dict[str, Any]:
    """``count`` steps: a chain of actions with an if-condition every fifth skipping ahead."""
    kinds = ["if-condition" if n % 5 == 0 and n + 3 < count else "action" for n in range(count)]
    ids = [sid("start")] + [sid(kinds[n]) for n in range(1, count - 1)] + [sid("end")]
    workflow: dict[str, Any] = {ids[0]: {"type": "start", "on_completion": ids[1]}}
    for n in range(1, count - 1):
        nxt = ids[n + 1]
        if n % 5 == 0 and n + 3 < count:
            workflow[ids[n]] = {"type": "if-condition", "name": f"Check {n}",
                                "condition": "__state__:value = 'infected'", "on_true": nxt,
                                "on_false": ids[n + 3]}  # fmt: skip
        else:
            workflow[ids[n]] = action(f"Step number {n} of the long playbook", nxt)
    workflow[ids[-1]] = {"type": "end"}
    return document(workflow=workflow, workflow_start=ids[0], playbook_variables=VARIABLES)
