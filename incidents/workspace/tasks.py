"""Response tasks of an incident: added by hand or from the templates of its RSIT class
(``incidents/data/task_templates.json``, French and English titles). Flask-free use cases."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from core import inputs
from core.clock import Clock
from core.errors import NotFound, ValidationFailed, reason_of
from core.i18n import N_, normalise_locale
from core.identity.authz import Actor
from core.identity.models import User
from incidents import events
from incidents.actions import IncidentAction
from incidents.events import IncidentEventName
from incidents.models import Incident, IncidentTask
from incidents.workspace.workflow import record_change, require_staff, require_work, text_field

MAX_TITLE = 300


@dataclass(frozen=True)
class TaskTemplate:
    id: str
    titles: dict[str, str]  # locale → title ("fr", "en"; Arabic falls back to French)

    def title(self, locale: str) -> str:
        return self.titles.get(normalise_locale(locale)) or self.titles["fr"]


@functools.cache
def task_templates() -> dict[str, tuple[TaskTemplate, ...]]:
    """RSIT class id (and ``default``) → its templates, in order."""
    raw = json.loads(
        resources.files("incidents").joinpath("data/task_templates.json").read_text("utf-8")
    )
    return {
        key: tuple(
            TaskTemplate(item["id"], {k: v for k, v in item.items() if k != "id"}) for item in items
        )
        for key, items in raw.items()
    }


def templates_for(category: str) -> tuple[TaskTemplate, ...]:
    templates = task_templates()
    return templates.get(category) or templates["default"]


def task_list(incident: Incident) -> Select[IncidentTask]:
    """The incident's tasks in order (``ix_incident_tasks_incident_position``)."""
    return (
        select(IncidentTask)
        .options(selectinload(IncidentTask.assignee))
        .where(IncidentTask.incident_id == incident.id)
        .order_by(IncidentTask.position, IncidentTask.id)
    )


def get_task(session: Session, actor: Actor, incident: Incident, task_id: int) -> IncidentTask:
    """A task of ``incident`` (already loaded with ``get_incident``), else ``NotFound``."""
    require_staff(actor, "reading tasks")
    task = session.get(IncidentTask, task_id)
    if task is None or task.incident_id != incident.id:
        raise NotFound(f"no task {task_id} on {incident.reference}")
    return task


def add_task(
    session: Session,
    actor: Actor,
    incident: Incident,
    title: str,
    *,
    clock: Clock,
    assignee: User | None = None,
    due_at: dt.datetime | None = None,
) -> IncidentTask:
    require_work(actor, incident, "adding tasks")
    name = text_field("title", inputs.show_bidi(title), limit=MAX_TITLE, required=True) or ""
    _check_assignee(assignee)
    if due_at is not None:
        try:
            due_at = inputs.instant(due_at)
        except ValueError as exc:
            raise ValidationFailed("invalid due date", fields={"due_at": reason_of(exc)}) from None
    task = _new_task(session, actor, incident, name, clock=clock, assignee=assignee, due_at=due_at)
    record_change(
        session,
        actor,
        incident,
        IncidentAction.TASK_ADDED,
        {"task": task.id, "title": name},
        clock=clock,
    )
    return task


def complete_task(
    session: Session, actor: Actor, task: IncidentTask, *, clock: Clock, done: bool = True
) -> IncidentTask:
    """Mark the task done (or not done again)."""
    require_work(actor, task.incident, "updating tasks")
    if task.done == done:
        return task
    task.done_at = clock.now() if done else None
    task.done_by_id = actor.user_id if done else None
    action = IncidentAction.TASK_DONE if done else IncidentAction.TASK_REOPENED
    incident = task.incident
    line = record_change(
        session, actor, incident, action, {"task": task.id, "title": task.title}, clock=clock
    )
    payload = events.TaskDone(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=line.id,
        task_id=task.id,
        done=done,
    )
    events.record(session, actor, incident, IncidentEventName.TASK_DONE, payload, clock=clock)
    return task


def apply_templates(
    session: Session, actor: Actor, incident: Incident, *, clock: Clock, locale: str = "fr"
) -> list[IncidentTask]:
    """Add the tasks of the incident's RSIT class (``default`` when it has none) that are not
    there yet; titles in ``locale`` (the CERT's working language by default)."""
    require_work(actor, incident, "adding tasks")
    present = set(
        session.scalars(
            select(IncidentTask.template).where(
                IncidentTask.incident_id == incident.id, IncidentTask.template.is_not(None)
            )
        )
    )
    added = [
        _new_task(session, actor, incident, t.title(locale), clock=clock, template=t.id)
        for t in templates_for(incident.category)
        if t.id not in present
    ]
    if added:
        data = {"tasks": [t.id for t in added], "category": incident.category}
        record_change(session, actor, incident, IncidentAction.TASKS_APPLIED, data, clock=clock)
    return added


def _new_task(
    session: Session,
    actor: Actor,
    incident: Incident,
    title: str,
    *,
    clock: Clock,
    assignee: User | None = None,
    due_at: dt.datetime | None = None,
    template: str | None = None,
) -> IncidentTask:
    last = session.scalar(
        select(func.max(IncidentTask.position)).where(IncidentTask.incident_id == incident.id)
    )
    task = IncidentTask(
        incident_id=incident.id,
        incident=incident,
        title=title,
        template=template,
        assignee_id=assignee.id if assignee else None,
        due_at=due_at,
        created_by_id=actor.user_id,
        created_at=clock.now(),
        position=(last or 0) + 1,
    )
    session.add(task)
    session.flush()  # its id, and its position for the next one
    return task


def _check_assignee(user: User | None) -> None:
    if user is not None and (not user.is_cert_staff or not user.is_active):
        raise ValidationFailed(
            "assignee must be CERT staff",
            fields={"assignee": N_("%(email)s is not active CERT staff", email=user.email)},
        )
