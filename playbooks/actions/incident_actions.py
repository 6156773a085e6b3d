"""The x-vigie actions on an incident's handling (Flask-free): ``create-incident``,
``add-task``, ``set-priority`` and ``set-status``, each through the incidents slice's own use
cases — the intake the form and the API use, the workspace's tasks and workflow — as the run's
system actor (``playbook-run:<id>``), which those use cases accept as CERT staff.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.identity.models import User
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident, IncidentEvent
from incidents.rules.taxonomy import UnknownClassification, validate_classification
from incidents.workspace import conversation, tasks, workflow
from playbooks.actions.common import ActionError, Invocation, run_label, vigie_action
from playbooks.engine.registry import CommandOutcome

MAX_DUE_HOURS = 24 * 365
ASSIGNEE_DEFAULT = "incident-assignee"


def _incident(inv: Invocation) -> Incident:
    incident = inv.call.incident
    if incident is None:  # checked by the vocabulary's needs_incident; for the type checker
        raise ActionError("this run has no incident")
    return incident


# ---------------------------------------------------------------- create-incident
@vigie_action("create-incident")
def create_incident(session: Session, inv: Invocation) -> CommandOutcome:
    """A new incident of the run's organisation through the intake service (as the run's
    system actor), which becomes the run's incident; a second create-incident of the same run
    adds its description to the one it opened instead of opening another."""
    call = inv.call
    organisation = call.organisation
    if organisation is None:
        raise ActionError("create-incident needs a run for an organisation")
    category, rsit_type = _classification(inv)
    opened = _opened_by_this_run(session, inv)
    if opened is not None:
        extra = inv.text("description")
        if extra:
            conversation.add_comment(session, call.actor, opened, extra, clock=call.clock)
        return CommandOutcome(
            outputs={"__incident_reference__": opened.reference},
            result=f"incident {opened.reference} already opened by this run: extended",
        )
    description = inv.text("description") or f"Opened by {run_label(call)}."
    try:
        submission = IncidentSubmission.model_validate(
            {
                "title": inv.text("title"),
                "description": description,
                "category": category,
                "type": rsit_type,
                "tlp": inv.text("tlp", "TLP:AMBER"),
                "organisation": organisation.slug,
            },
            context={"now": call.clock.now()},
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "arguments"
        raise ActionError(f"arguments.{where}: {first['msg']}") from None
    settings = call.settings.intake
    incident = submit_incident(session, call.actor, submission, clock=call.clock, settings=settings)
    priority = inv.text("priority")
    if priority and priority.strip().upper() != incident.priority:
        why = f"set by {run_label(call)}"
        workflow.set_priority(
            session, call.actor, incident, priority, why, clock=call.clock, settings=settings
        )
    call.run.incident_id = incident.id
    return CommandOutcome(
        outputs={"__incident_reference__": incident.reference},
        result=f"incident {incident.reference} opened ({incident.priority}, {incident.tlp})",
    )


def _classification(inv: Invocation) -> tuple[str, str | None]:
    category = (inv.text("category") or "").lower()
    rsit_type = inv.text("type")
    try:
        return validate_classification(category, rsit_type.lower() if rsit_type else None)
    except UnknownClassification as exc:
        field = "category" if exc.field == "category" else "type"
        raise ActionError(f"arguments.{field}: {exc}") from None


def _opened_by_this_run(session: Session, inv: Invocation) -> Incident | None:
    """The run's incident when this very run opened it (its "created" line is the run's)."""
    run = inv.call.run
    if run.incident_id is None:
        return None
    created_by_run = session.scalar(
        select(IncidentEvent.id).where(
            IncidentEvent.incident_id == run.incident_id,
            IncidentEvent.kind == "created",
            IncidentEvent.actor_label == inv.call.actor.label,
        )
    )
    return session.get(Incident, run.incident_id) if created_by_run else None


# ---------------------------------------------------------------- add-task
@vigie_action("add-task")
def add_task(session: Session, inv: Invocation) -> CommandOutcome:
    """A task on the incident (the step does not wait for it): for the incident's assignee
    (``incident-assignee``, the default: nobody while it has none) or a staff e-mail, due in
    ``due_hours`` hours."""
    call, incident = inv.call, _incident(inv)
    assignee = _assignee(session, inv, incident)
    due_hours = inv.integer("due_hours")
    due_at = None
    if due_hours is not None:
        if not 0 < due_hours <= MAX_DUE_HOURS:
            raise ActionError(f"arguments.due_hours: 1 to {MAX_DUE_HOURS} hours")
        due_at = call.clock.now() + dt.timedelta(hours=due_hours)
    task = tasks.add_task(
        session,
        call.actor,
        incident,
        inv.text("title") or "",
        clock=call.clock,
        assignee=assignee,
        due_at=due_at,
    )
    whom = f" for {assignee.email}" if assignee is not None else ""
    return CommandOutcome(
        outputs={"__task_id__": task.id},
        result=f"task #{task.id} added to {incident.reference}{whom}",
    )


def _assignee(session: Session, inv: Invocation, incident: Incident) -> User | None:
    wanted = inv.text("assignee", ASSIGNEE_DEFAULT) or ASSIGNEE_DEFAULT
    if wanted == ASSIGNEE_DEFAULT:
        return incident.assignee
    user = session.scalar(select(User).where(User.email == wanted.strip().lower()))
    if user is None or not user.is_cert_staff or not user.is_active:
        raise ActionError(
            f"arguments.assignee: {wanted!r} is neither {ASSIGNEE_DEFAULT!r} nor the e-mail "
            "of active CERT staff"
        )
    return user


# ---------------------------------------------------------------- set-priority, set-status
@vigie_action("set-priority")
def set_priority(session: Session, inv: Invocation) -> CommandOutcome:
    """The incident's priority (the SLA due dates follow), with the run as the reason."""
    call, incident = inv.call, _incident(inv)
    old = incident.priority
    wanted = (inv.text("priority") or "").upper()
    if wanted == old:
        return CommandOutcome(result=f"{incident.reference} already {old}")
    why = inv.text("reason") or f"set by {run_label(call)}"
    workflow.set_priority(
        session, call.actor, incident, wanted, why, clock=call.clock, settings=call.settings.intake
    )
    return CommandOutcome(result=f"{incident.reference} priority {old} → {incident.priority}")


@vigie_action("set-status")
def set_status(session: Session, inv: Invocation) -> CommandOutcome:
    """A move along the incident workflow; a transition it refuses fails the step with the
    workflow's reason (``cannot go from New to Closed``)."""
    call, incident = inv.call, _incident(inv)
    old = incident.status
    wanted = (inv.text("status") or "").lower()
    if wanted == old:
        return CommandOutcome(result=f"{incident.reference} already {old}")
    workflow.change_status(
        session,
        call.actor,
        incident,
        wanted,
        clock=call.clock,
        settings=call.settings.intake,
        resolution=inv.text("resolution"),
        reason=inv.text("reason"),
    )
    return CommandOutcome(result=f"{incident.reference} status {old} → {incident.status}")
