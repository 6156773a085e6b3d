"""REST adapter of the analyst workspace, on the ``incidents_api`` blueprint (``/api/v1``):
status, assignment, priority, comments, correspondence and the timeline.

Every route loads the incident with ``get_incident`` (404 for what the caller may not see —
TLP:RED included), makes one service call and commits once. Analyst operations answer 403 to
reporters; ``POST …/replies`` is the CERT's reply for staff and the reporter's answer for
reporters (with ``attachments``: files they uploaded before through ``POST …/attachments``).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from core.api import paginate, parse_json
from core.api.openapi import Reply, operation
from core.errors import ValidationFailed
from core.identity.authz import Actor
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor
from incidents import access
from incidents.blueprints import REFERENCE, WRITE_RATE_LIMIT
from incidents.blueprints import api as bp
from incidents.intake.api import incident_out
from incidents.intake.schemas import IncidentOut
from incidents.intake.service import get_incident
from incidents.models import Incident, IncidentEvent
from incidents.named import References, event_data
from incidents.settings import IntakeSettings
from incidents.workspace import conversation, workflow
from incidents.workspace.answer_files import AnswerFiles, answer_with_files
from incidents.workspace.schemas import (
    Assignment,
    EventOut,
    MessageIn,
    PriorityChange,
    ReplyIn,
    StatusChange,
)

TAG = "workspace"
ANALYST_ERRORS = (403, 404, 415, 422)
# What a reporter sees of each public event's data (the rest is CERT-only).
PUBLIC_DATA: dict[str, tuple[str, ...]] = {
    "created": ("category", "type", "priority"),
    "status": ("from", "to", "duplicate_of"),  # and the reason of rejected/duplicate (public)
    "priority": ("from", "to"),
    "reply": ("body",),
    "reporter_reply": ("body", "attachments"),
    "merged": ("into",),
}
REPORTER_SIDE = frozenset({"created", "reporter_reply"})


def settings() -> IntakeSettings:
    result: IntakeSettings = current_app.extensions["incidents"]
    return result


def incident_for_write(reference: str, *, staff_only: str | None = None) -> tuple[Incident, Actor]:
    """The incident (404 rule) in a transaction that holds the write lock (SQLite).

    Routes call this before parsing the body, so that a 422 never tells a caller that an
    incident it may not see exists; ``staff_only`` (what the caller attempts) also refuses
    reporters with 403 before validation, and staff who may see the incident but not work it
    (:func:`incidents.access.can_work`: a read-only share with their centre) get 403 too.
    """
    session, actor = get_session(), current_actor()
    unit_of_work().write()
    incident = get_incident(session, actor, reference)
    if staff_only is not None:
        workflow.require_staff(actor, staff_only)
    if actor.is_cert_staff:  # 403 on an incident shared with the caller's centre read-only
        access.require_work(actor, incident, staff_only or "changing incidents")
    return incident, actor


def event_renderer(actor: Actor) -> Callable[[IncidentEvent], EventOut]:
    """Staff see events as stored; reporters the public part only; nobody the reference of an
    incident they may not see (replaced by ``"hidden": [key]``, see :mod:`incidents.named`)."""
    references = References(get_session(), actor)

    def render(event: IncidentEvent) -> EventOut:
        data = event_data(references, event)
        if actor.is_cert_staff:
            label, name = event.actor_label, event.actor_name
        else:
            shown = event.kind in REPORTER_SIDE
            label, name = (event.actor_label, event.actor_name) if shown else ("CERT", "CERT")
            keys = (*PUBLIC_DATA.get(event.kind, ()), "hidden")
            reason = workflow.public_reason(event.kind, data)
            data = {k: data[k] for k in keys if k in data}
            if reason is not None:
                data["reason"] = reason
        return EventOut(
            id=event.id,
            at=event.at,
            kind=event.kind,
            actor=label,
            actor_name=name,
            public=event.public,
            data=data,
        )

    return render


def incident_reply(incident: Incident) -> ResponseReturnValue:
    unit_of_work().commit()
    return jsonify(incident_out(incident).model_dump(mode="json"))


def _event_reply(event: IncidentEvent, actor: Actor) -> ResponseReturnValue:
    unit_of_work().commit()
    return jsonify(event_renderer(actor)(event).model_dump(mode="json")), 201


@bp.post("/incidents/<reference>/status")
@operation(
    summary="Change an incident's status",
    description="Follows the workflow (new → triaged → in_progress → resolved → closed; "
    "rejected, duplicate; reopen). Resolving needs a `resolution` summary and an owner (the "
    "assignee, or `assignee` in the body); `rejected` and `duplicate` need a `reason`, shown to "
    "the reporter, and `duplicate` the original's reference in `duplicate_of`; closing e-mails "
    "the reporter. CERT staff only.",
    tag=TAG,
    body=StatusChange,
    path_params=REFERENCE,
    replies={200: Reply("The incident after the change", IncidentOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def change_status(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="changing the status")
    data = parse_json(StatusChange)
    owner = workflow.user_by_email(get_session(), data.assignee) if data.assignee else None
    workflow.change_status(
        get_session(), actor, incident, data.status, clock=context().clock,
        settings=settings(), resolution=data.resolution, reason=data.reason,
        duplicate_of=data.duplicate_of,
        assignee=owner if incident.assignee_id is None else None,
    )  # fmt: skip
    return incident_reply(incident)


@bp.post("/incidents/<reference>/assign")
@operation(
    summary="Assign an incident",
    description="To active CERT staff by e-mail; `null` unassigns. CERT staff only.",
    tag=TAG,
    body=Assignment,
    path_params=REFERENCE,
    replies={200: Reply("The incident after the change", IncidentOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def assign(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="assigning incidents")
    data = parse_json(Assignment)
    assignee = workflow.user_by_email(get_session(), data.assignee)
    workflow.assign(get_session(), actor, incident, assignee, clock=context().clock)
    return incident_reply(incident)


@bp.post("/incidents/<reference>/priority")
@operation(
    summary="Override an incident's priority",
    description="P1–P4 with the reason; the SLA due dates are recomputed. CERT staff only.",
    tag=TAG,
    body=PriorityChange,
    path_params=REFERENCE,
    replies={200: Reply("The incident after the change", IncidentOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def set_priority(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="overriding the priority")
    data = parse_json(PriorityChange)
    workflow.set_priority(
        get_session(), actor, incident, data.priority, data.reason,
        clock=context().clock, settings=settings(),
    )  # fmt: skip
    return incident_reply(incident)


@bp.post("/incidents/<reference>/comments")
@operation(
    summary="Add an internal comment",
    description="Never shown to the reporter. CERT staff only.",
    tag=TAG,
    body=MessageIn,
    path_params=REFERENCE,
    replies={201: Reply("The timeline event", EventOut)},
    errors=ANALYST_ERRORS,
    rate_limit=WRITE_RATE_LIMIT,
)
def comment(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference, staff_only="internal comments")
    data = parse_json(MessageIn)
    event = conversation.add_comment(
        get_session(), actor, incident, data.body, clock=context().clock
    )
    return _event_reply(event, actor)


@bp.post("/incidents/<reference>/replies")
@operation(
    summary="Write to the other side",
    description="CERT staff: a reply to the reporter, e-mailed and shown on the status page. "
    "Reporters of the incident's organisation: an answer to the CERT (also on closed "
    "incidents, which it does not reopen; 409 on a merged duplicate), with the files named in "
    "`attachments` (uploaded before through `POST …/attachments`) linked to it.",
    tag=TAG,
    body=ReplyIn,
    path_params=REFERENCE,
    replies={201: Reply("The timeline event", EventOut)},
    errors=(404, 409, 415, 422),
    rate_limit=WRITE_RATE_LIMIT,
)
def reply(reference: str) -> ResponseReturnValue:
    incident, actor = incident_for_write(reference)
    data = parse_json(ReplyIn)
    session, clock = get_session(), context().clock
    if actor.is_cert_staff:
        if data.attachments:
            raise ValidationFailed(
                "no attachments on a reply",
                fields={"attachments": "only a reporter's answer carries files"},
            )
        event = conversation.reply_to_reporter(
            session, actor, incident, data.body, clock=clock, settings=settings()
        )
    else:
        files = AnswerFiles(attachment_ids=data.attachments)
        event = answer_with_files(
            session, actor, incident, data.body, files, clock=clock,
            upload_dir=settings().upload_dir, max_bytes=settings().max_upload_bytes,
        )  # fmt: skip
    return _event_reply(event, actor)


@bp.get("/incidents/<reference>/timeline")
@operation(
    summary="An incident's timeline",
    description="Newest first. Reporters see the public events only (status changes, "
    "correspondence), without CERT-only details.",
    tag=TAG,
    path_params=REFERENCE,
    replies={200: Reply("One page of events", EventOut, paginated=True)},
    errors=(404, 422),
)
def timeline(reference: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    incident = get_incident(session, actor, reference)
    query = conversation.timeline_query(actor, incident, public_only=not actor.is_cert_staff)
    return paginate(query, EventOut, render=event_renderer(actor))
