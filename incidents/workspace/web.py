"""The incident file of the CERT staff: ``/incidents/<reference>`` and its action forms.

Every action is a thin adapter: the incident through ``get_incident`` (404 for those who may not
see it), the form parsed, one service call, one commit, a redirect back to the file (POST →
redirect → GET) scrolled to the place of the page where the action was taken, where a notice says
what was done (``_act``: a flash ``success:<place>``, shown by the ``notice`` macro). A service's
``ValidationFailed`` is shown next to the field concerned and in the notice of that place, in the
page's language (``core.web.say``), on the re-rendered file (422); an action without a form (a
button) gets an ``error:<place>`` notice instead. Status, priority and assignee may also come from
the header's quick controls (``place=head``). Reporters are sent to their status page,
``/track/<reference>``.

The actions on what the file holds (conversation, observables, tasks, related incidents) are in
:mod:`incidents.workspace.web_items`, on the same blueprint, through :func:`act`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from babel.dates import format_timedelta
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from core import inputs
from core.auth.centres import list_centres
from core.clock import Clock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor
from core.identity.models import User
from core.web import context, get_session, int_arg, say, unit_of_work
from core.web.auth import current_actor, login_required
from incidents.access import can_see, can_work
from incidents.intake.service import get_incident
from incidents.models import Incident
from incidents.rules import labels, richtext
from incidents.web import file_size, intake, local_time, marking_class, timezone_name
from incidents.workspace import conversation, file_page, workflow
from incidents.workspace.forms import (
    AssignForm,
    BodyForm,
    CentreForm,
    ClassificationForm,
    FileForm,
    MarkingsForm,
    MergeForm,
    ObservableForm,
    ParticipantForm,
    PriorityForm,
    ReferenceForm,
    ShareForm,
    StatusForm,
    TaskForm,
    TransferForm,
)

bp = Blueprint(
    "incident_file",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/assets/incidents",
)
Call = Callable[[Session, Actor, Incident, Any], object]
Done = Callable[[Incident, object], object]  # the sentence that says what the action did
Gone = Callable[[Incident], object]  # the sentence when the action took it out of sight


def saying(sentence: object) -> Done:
    """A ``done`` whose sentence does not depend on the outcome."""
    return lambda _incident, _result: sentence


# form key on the page → (class, prefix)
FORMS: dict[str, tuple[type[FileForm], str]] = {
    "status": (StatusForm, "status"),
    "assign": (AssignForm, "assign"),
    "priority": (PriorityForm, "priority"),
    "classification": (ClassificationForm, "rsit"),
    "markings": (MarkingsForm, "markings"),
    "comment": (BodyForm, "comment"),
    "reply": (BodyForm, "reply"),
    "participant": (ParticipantForm, "participant"),
    "observable": (ObservableForm, "observable"),
    "task": (TaskForm, "task"),
    "link": (ReferenceForm, "link"),
    "merge": (MergeForm, "merge"),
    "transfer": (TransferForm, "transfer"),
    "share": (ShareForm, "share"),
}


@bp.get("/incidents/<reference>")
@login_required
def show(reference: str) -> ResponseReturnValue:
    """The whole file for CERT staff; reporters go to their status page."""
    actor = current_actor()
    incident = get_incident(get_session(), actor, reference)
    if not actor.is_cert_staff:
        return redirect(url_for("incidents.track", reference=incident.reference))
    return _page(incident)


# ---------------------------------------------------------------- workflow
@bp.post("/incidents/<reference>/status")
@login_required
def status(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: StatusForm) -> object:
        resolution, reason = f.resolution.data or None, f.reason.data or None
        return workflow.change_status(
            s,
            a,
            i,
            f.to.data,
            clock=clock(),
            settings=intake(),
            resolution=resolution,
            reason=reason,
            duplicate_of=f.duplicate_of.data or None,
            assignee=chosen_user(s, f.owner.data) if i.assignee_id is None else None,
        )

    def said(i: Incident, _r: object) -> object:
        return _("Status changed: %(status)s.", status=_(labels.STATUSES.get(i.status, i.status)))

    return act(reference, "status", call, anchor=_place("file-status"), done=said)


@bp.post("/incidents/<reference>/assign")
@login_required
def assign(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: AssignForm) -> object:
        return workflow.assign(s, a, i, chosen_user(s, f.assignee.data), clock=clock())

    def said(i: Incident, _r: object) -> object:
        if i.assignee is None:
            return _("The incident is now assigned to nobody.")
        return _("Assigned to %(name)s.", name=i.assignee.name)

    return act(reference, "assign", call, anchor=_place("file-assign"), done=said)


@bp.post("/incidents/<reference>/priority")
@login_required
def priority(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: PriorityForm) -> object:
        return workflow.set_priority(
            s, a, i, f.priority.data, f.reason.data, clock=clock(), settings=intake()
        )

    def said(i: Incident, _r: object) -> object:
        return _("Priority set to %(priority)s.", priority=i.priority)

    return act(reference, "priority", call, anchor=_place("file-priority"), done=said)


@bp.post("/incidents/<reference>/classification")
@login_required
def classification(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: ClassificationForm) -> object:
        return workflow.reclassify(s, a, i, *f.parsed(), clock=clock())

    def said(i: Incident, _r: object) -> object:
        group, name = labels.classification_label(i.category, i.type)
        shown = _(group) + (f" — {_(name)}" if name else "")
        return _("Reclassified: %(classification)s.", classification=shown)

    return act(reference, "classification", call, anchor="file-classification", done=said)


@bp.post("/incidents/<reference>/markings")
@login_required
def markings(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: MarkingsForm) -> object:
        return workflow.set_markings(s, a, i, f.tlp.data, f.pap.data, clock=clock())

    def said(i: Incident, _r: object) -> object:
        return _("Markings changed: %(tlp)s, %(pap)s.", tlp=i.tlp, pap=i.pap)

    return act(reference, "markings", call, anchor="file-markings", done=said)


@bp.post("/incidents/<reference>/participants")
@login_required
def add_participant(reference: str) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, f: ParticipantForm) -> object:
        user = chosen_user(s, f.user.data)
        if user is None:
            raise ValidationFailed("no user", fields={"user": N_("choose an analyst")})
        return workflow.add_participant(s, a, i, user, clock=clock())

    return act(
        reference, "participant", call, anchor="participants", done=saying(_("Participant added."))
    )


@bp.post("/incidents/<reference>/participants/<int:user_id>/remove")
@login_required
def remove_participant(reference: str, user_id: int) -> ResponseReturnValue:
    def call(s: Session, a: Actor, i: Incident, _f: None) -> object:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(N_("no such user"))
        return workflow.remove_participant(s, a, i, user, clock=clock())

    return act(reference, None, call, anchor="participants", done=saying(_("Participant removed.")))


# ---------------------------------------------------------------- helpers
def act(
    reference: str,
    key: str | None,
    call: Call,
    *,
    anchor: str,
    done: Done,
    gone: Gone | None = None,
) -> ResponseReturnValue:
    """Parse the form ``key`` (or only the CSRF token), call the service once, commit and go
    back to the file; on invalid input, the file again with the errors next to the fields.

    ``anchor`` is the id of the place of the page where the action was taken: the redirect
    scrolls there and the notice of the outcome (``done``'s sentence, or the service's error)
    is shown there (a flash of category ``success:<anchor>`` or ``error:<anchor>``). When the
    action took the incident out of the actor's sight, they go to the queue with ``gone``'s
    sentence (a transfer) or the TLP:RED one."""
    session, actor = get_session(), current_actor()
    incident = _staff_incident(session, actor, reference)
    form = _form(key, incident, session) if key else None
    if form is None or form.validate_on_submit():
        try:
            result = call(session, actor, incident, form)
        except (ValidationFailed, Conflict) as exc:
            unit_of_work().rollback()
            if form is None:
                reasons = [say(reason) for reason in exc.fields.values()] or [say(exc.message)]
                flash(_("Not done: %(why)s", why="; ".join(reasons)), f"error:{anchor}")
                return redirect(url_for(".show", reference=incident.reference, _anchor=anchor))
            form.show_errors(exc.fields or {"": exc.message})
        else:
            unit_of_work().commit()
            target = result if isinstance(result, Incident) else incident
            session.refresh(incident)
            flash(str(done(incident, result)), f"success:{anchor}")
            return redirect(_back(actor, target, anchor, gone))
    failed: dict[str, FileForm] = {}
    if key and form:
        form.failed_at, failed = anchor, {key: form}
    return _page(incident, failed, status=422)


def _place(anchor: str) -> str:
    """Where the outcome of a workflow action is said: the header when its quick controls sent
    the form (``place=head``), else next to the form of the actions card."""
    return "file-head" if request.form.get("place") == "head" else anchor


def _staff_incident(session: Session, actor: Actor, reference: str) -> Incident:
    """The incident an action of the file changes: 404 for whoever may not see it, 403 for
    reporters and for staff who see it only through a read-only share with their centre."""
    incident = get_incident(session, actor, reference)
    if not actor.is_cert_staff:
        raise PermissionDenied(N_("the incident file is for CERT staff"))
    if not can_work(actor, incident):
        raise PermissionDenied(N_("this incident is shared with your centre read-only"))
    return incident


def _back(actor: Actor, incident: Incident, anchor: str, gone: Gone | None = None) -> str:
    """The file again, unless the change (TLP:RED, a transfer) took it out of the actor's
    sight."""
    if not can_see(actor, incident):
        if gone is not None:
            flash(str(gone(incident)), "success")
            return url_for("queue.index")
        flash(_("The incident is now TLP:RED: only its assignee, participants and leads see it."))
        return url_for("home")
    return url_for(".show", reference=incident.reference, _anchor=anchor)


def _form(key: str, incident: Incident, session: Session) -> FileForm:
    cls, prefix = FORMS[key]
    form = cls(prefix=prefix)
    form.prepare(status=incident.status, staff=file_page.active_staff(session))
    if isinstance(form, CentreForm):
        form.offer(list_centres(session), incident.centre_id, arabic=arabic_page())
    return form


def _page(
    incident: Incident, failed: dict[str, FileForm] | None = None, *, status: int = 200
) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    before = int_arg("before", low=1, high=inputs.MAX_ID) if request.method == "GET" else None
    page = file_page.load(session, actor, incident, now=clock().now(), before=before)
    forms = {key: (failed or {}).get(key) or _blank(key, incident, page) for key in FORMS}
    centre_names = {c.slug: c.display_name("ar" if arabic_page() else "fr") for c in page.centres}
    read_only = not can_work(actor, incident)  # shared with the actor's centre read-only
    return (
        render_template(
            "incidents/file/page.html",
            page=page,
            forms=forms,
            me=actor,
            centre_names=centre_names,
            read_only=read_only,
        ),
        status,
    )


def arabic_page() -> bool:
    return str(get_locale()) == "ar"


def _blank(key: str, incident: Incident, page: file_page.FilePage) -> FileForm:
    cls, prefix = FORMS[key]
    form = cls(prefix=prefix, formdata=None)
    form.prepare(status=incident.status, staff=page.staff)
    if isinstance(form, MarkingsForm):
        form.tlp.data, form.pap.data = incident.tlp, incident.pap
    elif isinstance(form, PriorityForm):
        form.priority.data = incident.priority
    elif isinstance(form, AssignForm):
        form.assignee.data = str(incident.assignee_id or "")
    elif isinstance(form, ClassificationForm):
        form.show(incident.category, incident.type)
    elif isinstance(form, CentreForm):
        form.offer(page.centres, incident.centre_id, arabic=arabic_page())
    return form


def chosen_user(session: Session, raw: str | None) -> User | None:
    try:
        return session.get(User, inputs.whole_number(raw or "", 1, inputs.MAX_ID))
    except ValueError:
        return None


def other_incident(session: Session, actor: Actor, incident: Incident, reference: str) -> Incident:
    """The other incident of a link or merge: a field error when it is unknown or itself."""
    try:
        other = get_incident(session, actor, reference)
    except NotFound:
        raise ValidationFailed("unknown", fields={"reference": N_("no such incident")}) from None
    if other.id == incident.id:
        raise ValidationFailed("same", fields={"reference": N_("this is the same incident")})
    if not can_work(actor, other):
        read_only = N_(
            "%(reference)s is shared with your centre read-only", reference=other.reference
        )
        raise ValidationFailed("read-only", fields={"reference": read_only})
    return other


def clock() -> Clock:
    """The application's clock (frozen in tests)."""
    return context().clock


# ---------------------------------------------------------------- template helpers
@bp.app_template_filter("rich")
def rich(body: str | None) -> Markup:
    """A comment, reply or answer: sanitised again when shown (defence in depth)."""
    return Markup(conversation.sanitise(body or ""))  # noqa: S704 — nh3 output


@bp.app_template_filter("markdown")
def markdown(source: str | None) -> Markup:
    """Markdown source shown as the safe HTML of :func:`incidents.rules.richtext.render`."""
    return Markup(richtext.render(source or ""))  # noqa: S704 — markdown-it, html off, then nh3


def countdown(due: dt.datetime) -> str:
    """``dans 3 heures``, ``il y a 2 jours``…: time left until ``due``, in the page's language."""
    delta = due - clock().now()
    return format_timedelta(delta, add_direction=True, threshold=1.5, locale=str(get_locale()))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "labels": labels,
        "local_time": local_time,
        "timezone_name": timezone_name,
        "file_size": file_size,
        "marking_class": marking_class,
        "countdown": countdown,
    }
