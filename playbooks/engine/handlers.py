"""The engine's subscribers to domain events (Flask-free), listed in the slice manifest and run
by the scheduler's ``events.deliver`` job (at most once per event, with their writes).

``playbooks.resume_on_task``: a task a ``manual`` command created is done → its step is
completed and the run woken (the ``playbooks.advance`` job moves it on). A redelivered event
finds the step completed already and does nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.events import Event, Handler
from incidents.events import IncidentEventName, TaskDone
from playbooks.models import PlaybookRun, PlaybookStepRun, StepStatus


def resume_on_task(session: Session, event: Event) -> None:
    payload = event.payload
    if not isinstance(payload, TaskDone) or not payload.done:
        return
    if event.occurred_at is None:
        raise ValueError(f"event {event.id} has no time")
    now = event.occurred_at
    steps = session.scalars(
        select(PlaybookStepRun).where(
            PlaybookStepRun.task_id == payload.task_id,
            PlaybookStepRun.status == StepStatus.WAITING,
        )
    )
    for step in steps:
        step.status, step.ended_at = StepStatus.COMPLETED, now
        run = session.get(PlaybookRun, step.run_id)
        if run is not None and not run.status.finished:
            run.wake_at = now


HANDLERS: tuple[Handler, ...] = (
    Handler("playbooks.resume_on_task", {IncidentEventName.TASK_DONE}, resume_on_task),
)
