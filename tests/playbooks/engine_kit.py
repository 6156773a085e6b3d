"""Engine tests' kit: playbooks written step by step (:func:`playbook`), stored without the
library's import checks (:func:`store`: the test executors are not Vigie's vocabulary), test
executors registered for one test (:func:`executors_for_tests`), and the steps a run recorded."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from playbooks.engine import registry
from playbooks.engine.registry import CommandCall, CommandOutcome
from playbooks.engine.runs import start_run
from playbooks.models import Phase, Playbook, PlaybookRun, PlaybookStepRun, RunOrigin
from playbooks.rules.substitution import substitute
from playbooks.settings import PlaybookSettings
from tests.playbooks.cacao_kit import CERT_GROUP

ACTOR = Actor.system("test")
SETTINGS = PlaybookSettings()


def playbook(
    workflow: dict[str, dict[str, Any]], *, start: str = "start", **extra: Any
) -> dict[str, Any]:
    """A CACAO document whose steps are ``workflow`` (ids as given: the engine does not read
    them); every action gets the CERT group as agent."""
    for step in workflow.values():
        if step.get("type") == "action":
            step.setdefault("agent", CERT_GROUP)
    return {
        "type": "playbook", "spec_version": "cacao-2.0", "id": f"playbook--{uuid.uuid4()}",
        "name": extra.pop("name", "Engine test"), "playbook_types": ["investigation"],
        "created_by": "identity--5abe695c-7bd5-4c31-8824-2528696cdbf1",
        "created": "2026-11-01T08:00:00.000Z", "modified": "2026-11-01T08:00:00.000Z",
        "workflow_start": start, "workflow": workflow,
        "agent_definitions": {CERT_GROUP: {"type": "group", "name": "CERT analysts"}},
        **extra,
    }  # fmt: skip


def echo(**outputs: str) -> dict[str, Any]:
    return {"type": "x-vigie", "command": "test-echo", "arguments": outputs}


def action(*commands: dict[str, Any], then: str | None = "end", **fields: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"type": "action", "commands": list(commands), **fields}
    if then is not None and "on_success" not in fields and "on_failure" not in fields:
        step["on_completion"] = then
    return step


def store(session: Session, document: dict[str, Any], clock: Clock) -> Playbook:
    now = clock.now()
    row = Playbook(
        cacao_id=document["id"], modified=dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC),
        created=now, name=document["name"], playbook_types=document["playbook_types"],
        phase=Phase.AFTER, document=json.dumps(document), digest="0" * 64, imported_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def start(session: Session, document: dict[str, Any], clock: Clock, **kwargs: Any) -> PlaybookRun:
    run = start_run(session, store(session, document, clock), origin=RunOrigin.MANUAL,
                    dedupe_key=f"test:{uuid.uuid4()}", actor=ACTOR, clock=clock,
                    settings=kwargs.pop("settings", SETTINGS), **kwargs)  # fmt: skip
    assert run is not None
    session.commit()
    return run


def steps(session: Session, run: PlaybookRun) -> list[PlaybookStepRun]:
    session.expire_all()
    return list(
        session.scalars(
            select(PlaybookStepRun)
            .where(PlaybookStepRun.run_id == run.id)
            .order_by(PlaybookStepRun.seq)
        )
    )


def trail(session: Session, run: PlaybookRun) -> list[str]:
    """The ids of the steps the run recorded, in order, with their status when not completed."""
    return [
        s.step_id if s.status == "completed" else f"{s.step_id}:{s.status}"
        for s in steps(session, run)
    ]


class Calls(list[tuple[str, dict[str, Any]]]):
    """What the test executors were called with: (key, arguments after substitution)."""


def _arguments(call: CommandCall) -> dict[str, Any]:
    raw = call.command.get("arguments") or {}
    return {k: substitute(v, call.variables) if isinstance(v, str) else v for k, v in raw.items()}


@contextmanager
def executors_for_tests() -> Iterator[Calls]:
    """``x-vigie:test-echo`` (its arguments become its outputs), ``test-fail`` (fails),
    ``test-count`` (``__n__`` + 1), ``test-external`` (registered external) — for one test."""
    calls = Calls()

    def echo_fn(_session: Session, call: CommandCall) -> CommandOutcome:
        args = _arguments(call)
        calls.append(("echo", args))
        return CommandOutcome(outputs=args, result="echoed")

    def fail_fn(_session: Session, call: CommandCall) -> CommandOutcome:
        calls.append(("fail", _arguments(call)))
        return CommandOutcome(ok=False, error="it failed on purpose")

    def count_fn(_session: Session, call: CommandCall) -> CommandOutcome:
        calls.append(("count", {}))
        return CommandOutcome(outputs={"__n__": int(call.variables.get("__n__") or 0) + 1})

    def external_fn(_session: Session, call: CommandCall) -> CommandOutcome:
        calls.append(("external", _arguments(call)))
        return CommandOutcome(outputs={"__status__": "200"}, result="called")

    keys = {
        "x-vigie:test-echo": (echo_fn, False),
        "x-vigie:test-fail": (fail_fn, False),
        "x-vigie:test-count": (count_fn, False),
        "x-vigie:test-external": (external_fn, True),
    }
    for key, (fn, external) in keys.items():
        registry.register(key, fn, external=external)
    try:
        yield calls
    finally:
        for key in keys:
            registry._EXECUTORS.pop(key, None)
