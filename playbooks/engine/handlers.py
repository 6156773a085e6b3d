"""The engine's subscribers to domain events (Flask-free), listed in the slice manifest and run
by the scheduler's ``events.deliver`` job (at most once per event, with their writes).

``playbooks.resume_on_task``: a task a ``manual`` command created is done → its step is
completed and the run woken (the ``playbooks.advance`` job moves it on). A redelivered event
finds the step completed already and does nothing.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.events import Event, Handler
from incidents.events import IncidentEventName, TaskDone
from playbooks.models import ACTIVE_STATUSES, PlaybookRun, PlaybookStepRun, StepStatus


def resume_on_task(session: Session, event: Event) -> None:
    payload = event.payload
    if not isinstance(payload, TaskDone) or not payload.done:
        return
    if event.occurred_at is None:
        raise ValueError(f"event {event.id} has no time")
    now = event.occurred_at
    waiting = (PlaybookStepRun.task_id == payload.task_id,
               PlaybookStepRun.status == StepStatus.WAITING)  # fmt: skip
    run_ids = list(session.scalars(select(PlaybookStepRun.run_id).where(*waiting)))
    if not run_ids:
        return
    # the status is checked again by the UPDATE itself: a step the engine has just timed out
    # (the row locked, then failed) is not turned back into a completed one
    session.execute(
        update(PlaybookStepRun)
        .where(*waiting)
        .values(status=StepStatus.COMPLETED, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(PlaybookRun)
        .where(PlaybookRun.id.in_(run_ids), PlaybookRun.status.in_(ACTIVE_STATUSES))
        .values(wake_at=now)
        .execution_options(synchronize_session=False)
    )


HANDLERS: tuple[Handler, ...] = (
    Handler("playbooks.resume_on_task", {IncidentEventName.TASK_DONE}, resume_on_task),
)
