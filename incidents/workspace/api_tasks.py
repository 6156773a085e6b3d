"""REST adapter of the analyst workspace, continued: tasks, links and merges (CERT staff only;
404 for incidents the caller may not see, TLP:RED included)."""

from __future__ import annotations

from flask import Response, jsonify
from flask.typing import ResponseReturnValue

from core.api import paginate, parse_json
from core.api.openapi import Reply, operation
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor
from incidents.blueprints import REFERENCE, WRITE_RATE_LIMIT
from incidents.blueprints import api as bp
from incidents.intake.api import incident_out
from incidents.intake.schemas import IncidentOut
from incidents.intake.service import get_incident
from incidents.models import Incident, IncidentTask
from incidents.workspace import merge, tasks, workflow
from incidents.workspace.api import ANALYST_ERRORS, TAG, incident_for_write, settings
from incidents.workspace.schemas import (
    LinkIn,
    LinksOut,
    MergeIn,
    TaskIn,
    TaskOut,
    TasksAdded,
    TaskUpdate,
    TemplatesIn,
)

TASK = {**REFERENCE, "task_id": "Task id"}


def task_out(task: IncidentTask) -> TaskOut:
    return TaskOut(
        id=task.id,
        title=task.title,
        template=task.template,
        assignee=task.assignee.email if task.assignee else None,
        due_at=task.due_at,
        done=task.done,
        done_at=task.done_at,
        created_at=task.created_at,
        position=task.position,
    )


def _links(incident: Incident) -> Response:
    linked = merge.linked_incidents(get_session(), current_actor(), incident)
    body = LinksOut(reference=incident.reference, linked=[i.reference for i in linked])
    return jsonify(body.model_dump(mode="json"))


@bp.get("/incidents/<reference>/tasks")
@operation(
    summary="An incident's tasks",
    description="In their order. CERT staff only.",
    tag=TAG,
    path_params=REFERENCE,
    replies={200: Reply("One page of tasks", TaskOut, paginated=True)},
    errors=(403, 404, 422),
)
def task_index(reference: str) -> ResponseReturnValue:
    actor = current_actor()
    incident = get_incident(get_session(), actor, reference)
    workflow.require_staff(actor, "reading tasks")
    return paginate(tasks.task_list(incident), TaskOut, render=task_out)


@bp.post("/incidents/<reference>/tasks")
@operation(
    summary="Add a task",
    description="Title, optional assignee (CERT staff e-mail) and due date. CERT staff only.",
    tag=TAG,
    body=TaskIn,
    path_params=REFERENCE,
    replies={201: Reply("The new task", TaskOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def task_create(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="adding tasks")
    data = parse_json(TaskIn)
    session = get_session()
    assignee = workflow.user_by_email(session, data.assignee)
    task = tasks.add_task(
        session, actor, incident, data.title, clock=context().clock,
        assignee=assignee, due_at=data.due_at,
    )  # fmt: skip
    unit_of_work().commit()
    return jsonify(task_out(task).model_dump(mode="json")), 201


@bp.post("/incidents/<reference>/tasks/templates")
@operation(
    summary="Add the tasks of the incident's RSIT class",
    description="From the response templates of its class (or the default ones); templates "
    "already applied are skipped. CERT staff only.",
    tag=TAG,
    body=TemplatesIn,
    path_params=REFERENCE,
    replies={201: Reply("The tasks added (maybe none)", TasksAdded)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def task_templates(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="adding tasks")
    data = parse_json(TemplatesIn)
    added = tasks.apply_templates(
        get_session(), actor, incident, clock=context().clock, locale=data.locale
    )
    unit_of_work().commit()
    body = TasksAdded(items=[task_out(t) for t in added])
    return jsonify(body.model_dump(mode="json")), 201


@bp.post("/incidents/<reference>/tasks/<int:task_id>")
@operation(
    summary="Mark a task done or not done",
    tag=TAG,
    body=TaskUpdate,
    path_params=TASK,
    replies={200: Reply("The task", TaskOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def task_update(reference: str, task_id: int) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="updating tasks")
    data = parse_json(TaskUpdate)
    session = get_session()
    task = tasks.get_task(session, actor, incident, task_id)
    tasks.complete_task(session, actor, task, clock=context().clock, done=data.done)
    unit_of_work().commit()
    return jsonify(task_out(task).model_dump(mode="json"))


@bp.post("/incidents/<reference>/merge")
@operation(
    summary="Merge this incident into another",
    description="Observables, tasks and timeline move to the incident named by `into`; this "
    "one becomes `duplicate`. Refused when the survivor's TLP is less strict. Incidents of "
    "different organisations: leads only (403 to analysts), naming both organisations in "
    "`confirm_organisations` (422 otherwise); each observable keeps its origin, and reporters "
    "read only their own organisation's. CERT staff only.",
    tag=TAG,
    body=MergeIn,
    path_params=REFERENCE,
    replies={200: Reply("The surviving incident", IncidentOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def merge_into(reference: str) -> ResponseReturnValue:
    other, actor = incident_for_write(reference, staff_only="merging incidents")
    data = parse_json(MergeIn)
    session = get_session()
    survivor = get_incident(session, actor, data.into)
    merge.merge(
        session, actor, survivor, other, clock=context().clock, settings=settings(),
        confirm_organisations=data.confirm_organisations,
    )  # fmt: skip
    unit_of_work().commit()
    return jsonify(incident_out(survivor).model_dump(mode="json"))


@bp.get("/incidents/<reference>/links")
@operation(
    summary="Incidents linked to this one",
    description="Only those the caller may see. CERT staff only.",
    tag=TAG,
    path_params=REFERENCE,
    replies={200: Reply("The links", LinksOut)},
    errors=(403, 404),
)
def link_index(reference: str) -> ResponseReturnValue:
    actor = current_actor()
    incident = get_incident(get_session(), actor, reference)
    workflow.require_staff(actor, "reading links")
    return _links(incident)


@bp.post("/incidents/<reference>/links")
@operation(
    summary="Link another incident to this one",
    description='A "related" link, both ways; linking twice changes nothing. CERT staff only.',
    tag=TAG,
    body=LinkIn,
    path_params=REFERENCE,
    replies={201: Reply("The links after the change", LinksOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def link_create(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="linking incidents")
    data = parse_json(LinkIn)
    session = get_session()
    other = get_incident(session, actor, data.reference)
    merge.link(session, actor, incident, other, clock=context().clock)
    unit_of_work().commit()
    return _links(incident), 201
