"""The reporter's pages: the status page of an incident (``/track/<reference>``) with the answer
to the CERT, and the organisation's list (``/incidents/mine``), on the ``incidents`` blueprint
(adapters: parse → one use case → commit → render). Every incident is looked up through
``get_incident`` (404 for another organisation's incident)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from core.errors import Conflict, ValidationFailed
from core.web import context, fetch_page, get_session, page_number, unit_of_work
from core.web.auth import current_actor, login_required
from incidents.access import visible
from incidents.blueprints import pages as bp
from incidents.intake.service import get_incident
from incidents.models import Incident, IncidentStatus
from incidents.named import event_views
from incidents.origins import followed, reported_observables
from incidents.rules.sla import deadlines
from incidents.web import marking_class  # noqa: F401  (its context processor serves these pages)
from incidents.workspace.conversation import check_may_answer, reporter_answer, timeline
from incidents.workspace.forms import BodyForm
from incidents.workspace.workflow import public_reason

PAGE_SIZE = 25
MAX_EVENTS = 200


@bp.route("/track/<reference>")
@login_required
def track(reference: str) -> ResponseReturnValue:
    """Status page of the reporting organisation (and CERT staff): public information only,
    the conversation with the CERT included."""
    incident = get_incident(get_session(), current_actor(), reference)
    return _track_page(incident, BodyForm(prefix="answer", formdata=None))


@bp.post("/track/<reference>/answer")
@login_required
def answer(reference: str) -> ResponseReturnValue:
    """The reporter answers the CERT from the status page."""
    session, actor = get_session(), current_actor()
    incident = get_incident(session, actor, reference)
    check_may_answer(actor, incident)  # before the form: its errors would answer anyone
    form = BodyForm(prefix="answer")
    if form.validate_on_submit():
        try:
            reporter_answer(session, actor, incident, form.body.data, clock=context().clock)
        except (ValidationFailed, Conflict) as exc:
            unit_of_work().rollback()
            form.show_errors(exc.fields or {"": exc.message})
        else:
            unit_of_work().commit()
            return redirect(url_for(".track", reference=incident.reference, _anchor="conversation"))
    return _track_page(incident, form, status=422)


def _track_page(incident: Incident, form: BodyForm, *, status: int = 200) -> ResponseReturnValue:
    """What the reporting organisation reads (staff see the same page): public events, its own
    observables only, and for a merged report the status of the incident it is followed under."""
    session, actor = get_session(), current_actor()
    events = timeline(session, actor, incident, public_only=True, limit=MAX_EVENTS)
    return render_template(
        "incidents/track.html",
        incident=incident,
        events=event_views(session, actor, events),
        observables=reported_observables(session, incident),
        merged=followed(session, actor, incident),
        public_reason=public_reason,
        deadlines=deadlines(incident, context().clock.now()),
        form=form,
        can_answer=not actor.is_cert_staff and incident.status != IncidentStatus.DUPLICATE,
    ), status


@bp.route("/incidents/mine")
@login_required
def mine() -> ResponseReturnValue:
    """The organisation's reports, newest first (staff: the reports they recorded)."""
    actor = current_actor()
    query = select(Incident).order_by(Incident.received_at.desc(), Incident.id.desc())
    query = query.where(visible(actor))
    if actor.is_cert_staff:
        query = query.where(Incident.reporter_id == actor.user_id)
    page = fetch_page(query, limit=PAGE_SIZE, offset=(page_number() - 1) * PAGE_SIZE)
    return render_template("incidents/mine.html", page=page, staff=actor.is_cert_staff)
