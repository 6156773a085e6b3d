"""The reporter's pages: the status page of an incident (``/track/<reference>``) with the answer
to the CERT, and the organisation's list (``/incidents/mine``), on the ``incidents`` blueprint
(adapters: parse → one use case → commit → render). Every incident is looked up through
``get_incident`` (404 for another organisation's incident)."""

from __future__ import annotations

from typing import BinaryIO, cast

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from core.errors import Conflict, DomainError, ValidationFailed
from core.web import (
    context,
    error_response,
    fetch_page,
    get_session,
    page_number,
    unit_of_work,
)
from core.web.auth import current_actor, login_required
from incidents.access import visible
from incidents.blueprints import pages as bp
from incidents.intake.attachments import TooLarge, discard_unreferenced, safe_filename
from incidents.intake.service import get_incident
from incidents.models import Incident, IncidentStatus
from incidents.named import event_views
from incidents.origins import followed, reported_attachments, reported_observables
from incidents.reporter.forms import AnswerForm
from incidents.rules.sla import deadlines
from incidents.web import (
    file_size,
    intake,
    marking_class,  # noqa: F401  (its context processor serves these pages)
)
from incidents.workspace.answer_files import (
    MAX_FILES,
    AnswerFiles,
    TooManyFiles,
    Upload,
    answer_with_files,
)
from incidents.workspace.conversation import check_may_answer, timeline
from incidents.workspace.workflow import public_reason

PAGE_SIZE = 25
MAX_EVENTS = 200


@bp.route("/track/<reference>")
@login_required
def track(reference: str) -> ResponseReturnValue:
    """Status page of the reporting organisation (and CERT staff): public information only,
    the conversation with the CERT included."""
    incident = get_incident(get_session(), current_actor(), reference)
    return _track_page(incident, AnswerForm(prefix="answer", formdata=None))


@bp.post("/track/<reference>/answer")
@login_required
def answer(reference: str) -> ResponseReturnValue:
    """The reporter answers the CERT from the status page, with files if they choose some; on
    any error nothing is kept (no answer, no attachment row, no stored file)."""
    session, actor = get_session(), current_actor()
    incident = get_incident(session, actor, reference)
    check_may_answer(actor, incident)  # before the form: its errors would answer anyone
    form = AnswerForm(prefix="answer")
    if form.validate_on_submit():
        uploads = form.uploads()
        files = AnswerFiles(
            uploads=[Upload(f.filename or "", cast(BinaryIO, f.stream)) for f in uploads]
        )
        settings = intake()
        try:
            answer_with_files(
                session, actor, incident, form.body.data, files, clock=context().clock,
                upload_dir=settings.upload_dir, max_bytes=settings.max_upload_bytes,
            )  # fmt: skip
            unit_of_work().commit()
        except (ValidationFailed, Conflict, TooLarge) as exc:
            _undo(files)
            _show_errors(form, exc, files)
        except BaseException:
            _undo(files)
            raise
        else:
            return redirect(url_for(".track", reference=incident.reference, _anchor="conversation"))
    return _track_page(incident, form, status=422)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """A request over ``MAX_CONTENT_LENGTH`` (refused before any view reads it, nothing stored):
    the answer form says so next to the files; other pages get the usual 413 page."""
    if request.endpoint == "incidents.answer" and request.view_args:
        try:
            incident = get_incident(get_session(), current_actor(), request.view_args["reference"])
            check_may_answer(current_actor(), incident)
        except DomainError as error:
            return error_response(error.status, error.code, error.message)
        form = AnswerForm(prefix="answer", formdata=None)
        size = file_size(intake().max_upload_bytes)
        form.files.errors = [_("The files are larger than %(size)s in total.", size=size)]
        return _track_page(incident, form, status=413)
    return error_response(413, "request_entity_too_large", exc.description or "too large")


def _undo(files: AnswerFiles) -> None:
    """Roll back, then remove the files this answer stored that no row refers to."""
    unit_of_work().rollback()
    discard_unreferenced(get_session(), intake().upload_dir, files.stored)


def _show_errors(form: AnswerForm, exc: DomainError, files: AnswerFiles) -> None:
    """The service's errors in the page's language, a file's named by its name."""
    fields = dict(exc.fields or {"": exc.message})
    if "file" in fields:
        del fields["file"]
        index = min(len(files.stored), len(files.uploads) - 1)
        name = safe_filename(files.uploads[index].filename) if files.uploads else ""
        if isinstance(exc, TooLarge):
            size = file_size(intake().max_upload_bytes)
            message = _("“%(name)s” is larger than %(size)s.", name=name, size=size)
        elif isinstance(exc, TooManyFiles):
            message = _("At most %(count)s files per answer.", count=MAX_FILES)
        else:
            message = _("“%(name)s” is empty.", name=name)
        form.files.errors = [*form.files.errors, message]
    if fields:
        form.show_errors(fields)


def _track_page(incident: Incident, form: AnswerForm, *, status: int = 200) -> ResponseReturnValue:
    """What the reporting organisation reads (staff see the same page): public events, its own
    observables only, and for a merged report the status of the incident it is followed under."""
    session, actor = get_session(), current_actor()
    events = timeline(session, actor, incident, public_only=True, limit=MAX_EVENTS)
    return render_template(
        "incidents/track.html",
        incident=incident,
        events=event_views(session, actor, events),
        observables=reported_observables(session, incident),
        attachments=reported_attachments(session, incident),
        merged=followed(session, actor, incident),
        public_reason=public_reason,
        deadlines=deadlines(incident, context().clock.now()),
        form=form,
        max_upload=intake().max_upload_bytes,
        max_files=MAX_FILES,
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
