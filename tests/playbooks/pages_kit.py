"""Rows for the playbooks page tests: imported playbooks, runs with their step log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from incidents.models import Incident
from playbooks.engine.runs import start_run
from playbooks.library.services import import_playbook
from playbooks.models import (
    Playbook,
    PlaybookRun,
    PlaybookStepRun,
    RunOrigin,
    RunStatus,
    StepStatus,
)
from playbooks.settings import PlaybookSettings
from tests.playbooks.cacao_kit import document, text

SYSTEM = Actor.system("test")


def playbook(session: Session, clock: Clock, **fields: Any) -> Playbook:
    return import_playbook(session, SYSTEM, text(document(**fields)), clock=clock).playbook


def run(
    session: Session,
    clock: Clock,
    book: Playbook,
    *,
    incident: Incident | None = None,
    status: RunStatus = RunStatus.WAITING,
    key: str | None = None,
) -> PlaybookRun:
    """A run of ``book`` with two recorded steps: the start, and an action waiting on a task."""
    started = start_run(session, book, origin=RunOrigin.TRIGGER,
                        dedupe_key=key or f"test:{book.id}:{incident.id if incident else 0}",
                        actor=SYSTEM, clock=clock, settings=PlaybookSettings(),
                        incident=incident)  # fmt: skip
    assert started is not None
    now = clock.now()
    steps = [
        ("start--1", "start", None, StepStatus.COMPLETED, {}, {}, "started"),
        ("action--2", "action", "Contain", StepStatus.WAITING, {"__host__": "<b>pc-12</b>"},
         {"task": 7}, "task created"),
    ]  # fmt: skip
    for seq, (sid, kind, name, state, inputs, outputs, result) in enumerate(steps, start=1):
        session.add(
            PlaybookStepRun(
                run_id=started.id,
                seq=seq,
                step_id=sid,
                step_type=kind,
                name=name,
                status=state,
                inputs=inputs,
                outputs=outputs,
                result=result,
                started_at=now + dt.timedelta(seconds=seq),
            )  # fmt: skip
        )
    started.status, started.steps_done = status, 2
    session.flush()
    return started
