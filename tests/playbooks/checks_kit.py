"""The before-incident checks' tests: a run for an organisation and the :class:`CommandCall`
an x-vigie command of it makes, built as the engine builds it; the mails queued."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import playbooks.actions  # noqa: F401  (registers the executors)
from core.clock import Clock
from core.identity.authz import Actor
from core.identity.models import Organisation
from core.outbox import OutboxMessage
from playbooks.engine.registry import CommandCall, CommandOutcome, executor
from playbooks.engine.runs import start_run
from playbooks.library.services import import_playbook
from playbooks.models import PlaybookRun, RunOrigin
from playbooks.rules.vocabulary import ACTIONS
from playbooks.settings import PlaybookSettings
from tests.playbooks.cacao_kit import document, text

SYSTEM = Actor.system("test")


def new_run(
    session: Session, clock: Clock, organisation: Organisation | None, command: dict[str, Any]
) -> PlaybookRun:
    doc = document(types=("detection",), commands=[command])
    playbook = import_playbook(session, SYSTEM, text(doc), clock=clock).playbook
    run = start_run(session, playbook, origin=RunOrigin.MANUAL, dedupe_key=str(uuid.uuid4()),
                    actor=SYSTEM, clock=clock, settings=PlaybookSettings(),
                    organisation=organisation)  # fmt: skip
    assert run is not None
    return run


def execute(
    session: Session,
    clock: Clock,
    organisation: Organisation | None,
    action: str,
    settings: PlaybookSettings | None = None,
    **arguments: Any,
) -> tuple[CommandOutcome, PlaybookRun]:
    """Run the x-vigie ``action`` with ``arguments`` in a new run for ``organisation``."""
    command = {"type": "x-vigie", "command": action, "arguments": arguments}
    # the run's playbook holds the action without its arguments: import would refuse the bad
    # ones a test hands the executor to see it check them again at run time
    run = new_run(session, clock, organisation, {"type": "x-vigie", "command": action,
                                                 "arguments": _required(action)})  # fmt: skip
    registered = executor(f"x-vigie:{action}")
    assert registered is not None, action
    call = CommandCall(run=run, step_id="action--1", step={"type": "action"}, command=command,
                       variables={}, incident=None, organisation=organisation,
                       actor=Actor.system(f"playbook-run:{run.id}"), clock=clock,
                       settings=settings or PlaybookSettings())  # fmt: skip
    outcome = registered.fn(session, call)
    session.flush()
    return outcome, run


def _required(action: str) -> dict[str, Any]:
    spec = ACTIONS[action]
    samples: dict[str, Any] = {"string": "x", "integer": 1, "boolean": True, "list": []}
    return {name: samples[arg.type] for name, arg in spec.args.items() if arg.required}


def mails(session: Session, to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        query = query.where(OutboxMessage.to_addr == to)
    return list(session.scalars(query))
