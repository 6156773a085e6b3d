"""Starting a run (Flask-free use case): one row, idempotent by ``dedupe_key``.

The run starts ``pending`` with the engine's initial state (:func:`initial_state`); the
scheduler's ``playbooks.advance`` job (or a caller that wants the first steps done at once,
:func:`playbooks.engine.runner.advance_run`) takes it from there.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import ValidationFailed
from core.events import Event, record_event
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import Organisation
from incidents.models import Incident
from playbooks.events import AGGREGATE, PlaybookEventName, RunFinished
from playbooks.models import (
    Playbook,
    PlaybookRun,
    PlaybookSchedule,
    PlaybookStepRun,
    PlaybookTrigger,
    RunOrigin,
    RunStatus,
    StepStatus,
)
from playbooks.settings import PlaybookSettings


def initial_state(document: Mapping[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
    """One thread at ``workflow_start``; the playbook's variables (their ``value``), overridden
    by ``variables`` (the caller's, e.g. a playbook-action's ``in_args``)."""
    values: dict[str, Any] = {
        name: spec.get("value")
        for name, spec in (document.get("playbook_variables") or {}).items()
        if isinstance(spec, Mapping)
    }
    values.update(variables)
    return {
        "threads": [
            {
                "id": "",
                "at": document["workflow_start"],
                "frames": [],
                "parent": None,
                "wait": None,
                "delayed": None,
            }
        ],  # fmt: skip
        "variables": values,
    }


def start_run(
    session: Session,
    playbook: Playbook,
    *,
    origin: RunOrigin,
    dedupe_key: str,
    actor: Actor,
    clock: Clock,
    settings: PlaybookSettings,
    incident: Incident | None = None,
    organisation: Organisation | None = None,
    trigger: PlaybookTrigger | None = None,
    schedule: PlaybookSchedule | None = None,
    parent_run: PlaybookRun | None = None,
    variables: Mapping[str, Any] | None = None,
) -> PlaybookRun | None:
    """A new pending run of ``playbook`` — or ``None`` when a run with ``dedupe_key`` exists
    (a redelivered event, a schedule slot fired twice). A revoked version never starts."""
    if playbook.revoked:
        raise ValidationFailed(
            "playbook revoked", fields={"playbook": N_("this playbook is revoked")}
        )
    if session.scalar(select(PlaybookRun.id).where(PlaybookRun.dedupe_key == dedupe_key)):
        return None
    now = clock.now()
    if organisation is None and incident is not None:
        organisation = incident.organisation
    run = PlaybookRun(
        playbook_id=playbook.id,
        playbook=playbook,
        incident_id=incident.id if incident is not None else None,
        organisation_id=organisation.id if organisation is not None else None,
        origin=origin,
        trigger_id=trigger.id if trigger is not None else None,
        schedule_id=schedule.id if schedule is not None else None,
        parent_run_id=parent_run.id if parent_run is not None else None,
        dedupe_key=dedupe_key,
        status=RunStatus.PENDING,
        state=initial_state(json.loads(playbook.document), variables or {}),
        steps_done=0,
        wake_at=now,
        deadline_at=now + dt.timedelta(days=settings.max_days),
        started_at=now,
        updated_at=now,
        started_by_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:  # the same key, started concurrently
        return None
    return run


def finish_run(
    session: Session,
    run: PlaybookRun,
    status: RunStatus,
    error: str | None,
    *,
    clock: Clock,
    actor: Actor,
) -> None:
    """End ``run`` (completed, failed, cancelled): ``playbook.run_finished`` is recorded in the
    same transaction, its steps still waiting fail with it, and a parent run waiting for it is
    woken."""
    now = clock.now()
    run.status, run.error = status, error
    run.finished_at = run.updated_at = now
    run.wake_at = None
    waiting = select(PlaybookStepRun).where(
        PlaybookStepRun.run_id == run.id, PlaybookStepRun.status == StepStatus.WAITING
    )
    for step in session.scalars(waiting):
        step.status, step.ended_at = StepStatus.FAILED, now
        step.error = f"the run ended ({status})"
    payload = RunFinished(run_id=run.id, playbook_id=run.playbook_id,
                          incident_id=run.incident_id, status=status.value)  # fmt: skip
    event = Event.of(PlaybookEventName.RUN_FINISHED, payload, aggregate=(AGGREGATE, run.id),
                     actor=actor)  # fmt: skip
    record_event(session, event, clock=clock)
    parent = session.get(PlaybookRun, run.parent_run_id) if run.parent_run_id else None
    if parent is not None and not parent.status.finished:
        parent.wake_at = now


def run_depth(session: Session, run: PlaybookRun) -> int:
    """How many runs above ``run`` started it (0: a run of its own)."""
    depth, parent_id = 0, run.parent_run_id
    while parent_id is not None and depth <= 100:
        depth += 1
        parent_id = session.scalar(
            select(PlaybookRun.parent_run_id).where(PlaybookRun.id == parent_id)
        )
    return depth
