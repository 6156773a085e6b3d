"""The incident file's actions on what it holds (blueprint ``incident_file`` of
:mod:`incidents.workspace.web`): internal comments and replies to the reporter, observables,
tasks, and related incidents (links, merge). Each is a thin adapter through
:func:`incidents.workspace.web.act`: one service call, one commit, back to its place on the file."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from core.errors import PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.web.auth import login_required
from incidents.intake.service import get_incident
from incidents.models import Incident
from incidents.web import intake
from incidents.workspace import conversation, merge, observables_admin, tasks
from incidents.workspace.forms import BodyForm, MergeForm, ObservableForm, ReferenceForm, TaskForm
from incidents.workspace.web import act, bp, chosen_user, clock, other_incident, saying


# ---------------------------------------------------------------- conversation
@bp.post("/incidents/<reference>/comments")
@login_required
def comment(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: BodyForm) -> object:
        return conversation.add_comment(s, a, i, f.body.data, clock=clock())

    return act(
        reference, "comment", call, anchor="file-comment", done=saying(_("Internal comment added."))
    )


@bp.post("/incidents/<reference>/replies")
@login_required
def reply(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: BodyForm) -> object:
        return conversation.reply_to_reporter(
            s, a, i, f.body.data, clock=clock(), settings=intake()
        )

    return act(
        reference, "reply", call, anchor="file-reply", done=saying(_("Reply sent to the reporter."))
    )


# ---------------------------------------------------------------- observables and tasks
@bp.post("/incidents/<reference>/observables")
@login_required
def add_observable(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: ObservableForm) -> object:
        return observables_admin.add_observable(
            s, a, i, f.type.data, f.value.data, clock=clock(), settings=intake()
        )

    return act(
        reference, "observable", call, anchor="observables", done=saying(_("Observable added."))
    )


@bp.post("/incidents/<reference>/observables/<int:observable_id>/remove")
@login_required
def remove_observable(reference: str, observable_id: int) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, _f: None) -> object:
        observables_admin.remove_observable(s, a, i, observable_id, clock=clock())
        return None

    return act(reference, None, call, anchor="observables", done=saying(_("Observable removed.")))


@bp.post("/incidents/<reference>/tasks")
@login_required
def add_task(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: TaskForm) -> object:
        assignee, due = chosen_user(s, f.assignee.data), f.due(intake().timezone)
        return tasks.add_task(s, a, i, f.title.data, clock=clock(), assignee=assignee, due_at=due)

    return act(reference, "task", call, anchor="tasks", done=saying(_("Task added.")))


@bp.post("/incidents/<reference>/tasks/<int:task_id>/done")
@login_required
def complete_task(reference: str, task_id: int) -> ResponseReturnValue:
    done = request.form.get("done", "1") == "1"

    def call(s: Session, a: Actor, i: Incident, _f: None) -> object:
        task = tasks.get_task(s, a, i, task_id)
        return tasks.complete_task(s, a, task, clock=clock(), done=done)

    return act(
        reference,
        None,
        call,
        anchor="tasks",
        done=saying(_("Task marked as done.") if done else _("Task marked as not done.")),
    )


@bp.post("/incidents/<reference>/tasks/templates")
@login_required
def apply_templates(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, _f: None) -> object:
        return tasks.apply_templates(s, a, i, clock=clock())

    def said(_i: Incident, result: object) -> object:
        count = len(result) if isinstance(result, list) else 0
        return ngettext("%(num)d task added.", "%(num)d tasks added.", count)

    return act(reference, None, call, anchor="tasks", done=said)


# ---------------------------------------------------------------- related incidents
@bp.post("/incidents/<reference>/links")
@login_required
def link(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: ReferenceForm) -> object:
        return merge.link(s, a, i, other_incident(s, a, i, f.reference.data), clock=clock())

    return act(reference, "link", call, anchor="related", done=saying(_("Incidents linked.")))


@bp.post("/incidents/<reference>/links/<other>/remove")
@login_required
def unlink(reference: str, other: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, _f: None) -> object:
        merge.unlink(s, a, i, get_incident(s, a, other), clock=clock())
        return None

    return act(reference, None, call, anchor="related", done=saying(_("Link removed.")))


@bp.post("/incidents/<reference>/merge")
@login_required
def merge_into(reference: str) -> ResponseReturnValue:
    """Merge this incident into another one, whose file is shown next."""

    def call(s: Session, a: Actor, i: Incident, f: MergeForm) -> Incident:
        survivor = other_incident(s, a, i, f.reference.data)
        if survivor.organisation_id != i.organisation_id:  # the page asks to confirm both
            f.organisations = (i.organisation, survivor.organisation)
        try:
            merge.merge(
                s, a, survivor, i, clock=clock(), settings=intake(),
                confirm_organisations=f.confirmed(),
            )  # fmt: skip
        except PermissionDenied as exc:  # an analyst, across organisations: said on the form
            f.organisations = None
            raise ValidationFailed(exc.message, fields={"reference": exc.message}) from None
        return survivor

    def said(i: Incident, result: object) -> object:
        return _("%(merged)s was merged into this incident.", merged=i.reference)

    return act(reference, "merge", call, anchor="related", done=said)
