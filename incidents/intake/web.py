"""Incident pages of the reporters: the report form and its confirmation, and attachment downloads
(adapters: parse → one use case → commit → render); the status page and the organisation's list
are :mod:`incidents.reporter.web`'s.

The form and ``POST /api/v1/incidents`` both build an ``IncidentSubmission`` and call
``submit_incident``; every incident is looked up through ``get_incident`` (404 for another
organisation's incident, so that its existence is never revealed).
"""

from __future__ import annotations

from typing import BinaryIO, cast

from flask import Response, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from core.errors import AuthenticationFailed, NotFound, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import Organisation, User
from core.web import context, get_session, say, unit_of_work
from core.web.auth import current_account, current_actor, login_required
from incidents.blueprints import pages as bp
from incidents.intake.attachments import TooLarge, add_attachment, open_attachment
from incidents.intake.forms import IncidentForm
from incidents.intake.service import get_incident, submit_incident
from incidents.models import Incident
from incidents.origins import attachments_for
from incidents.rules import labels
from incidents.settings import IntakeSettings
from incidents.web import file_size, in_zone, intake

DOWNLOAD_CSP = "default-src 'none'; sandbox"


# ---------------------------------------------------------------- reporting
@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """The report form; staff also choose the organisation concerned."""
    actor, user, now = current_actor(), _me(), context().clock.now()
    form = IncidentForm()
    form.prepare(user, _organisations() if actor.is_cert_staff else None, latest=in_zone(now))
    if form.is_submitted():
        incident = _submit(form, actor)
        if incident is not None:
            return redirect(url_for(".submitted", reference=incident.reference))
    return render_template(
        "incidents/new.html",
        form=form,
        groups=labels.classification_groups(include_test=actor.is_cert_staff),
        max_upload=intake().max_upload_bytes,
        reselect_files=bool(_uploads(form)),
    ), (422 if form.is_submitted() else 200)


def _submit(form: IncidentForm, actor: Actor) -> Incident | None:
    """Validate, submit, store the files and commit once; ``None`` with the errors shown."""
    settings, clock, session = intake(), context().clock, get_session()
    submission = form.submission(timezone=settings.timezone, now=clock.now())
    if submission is None:
        return None
    try:
        incident = submit_incident(session, actor, submission, clock=clock, settings=settings)
    except ValidationFailed as exc:
        unit_of_work().rollback()
        form.show_errors({name: _service_error(detail) for name, detail in exc.fields.items()})
        return None
    errors = _attach(session, actor, incident, _uploads(form), settings)
    if errors:
        unit_of_work().rollback()  # nothing is kept, the reference number included
        form.show_errors(errors)
        return None
    unit_of_work().commit()
    return incident


def _attach(
    session: Session,
    actor: Actor,
    incident: Incident,
    uploads: list[FileStorage],
    settings: IntakeSettings,
) -> dict[str, str]:
    for upload in uploads:
        name = upload.filename or ""
        try:
            add_attachment(
                session,
                actor,
                incident,
                filename=name,
                stream=cast(BinaryIO, upload.stream),
                clock=context().clock,
                upload_dir=settings.upload_dir,
                max_bytes=settings.max_upload_bytes,
            )
        except TooLarge:
            size = file_size(settings.max_upload_bytes)
            return {"attachments": _("“%(name)s” is larger than %(size)s.", name=name, size=size)}
        except ValidationFailed:
            return {"attachments": _("“%(name)s” is empty.", name=name)}
    return {}


def _uploads(form: IncidentForm) -> list[FileStorage]:
    return [f for f in form.attachments.data or [] if isinstance(f, FileStorage) and f.filename]


def _service_error(detail: str) -> str:
    """A service's reason, in the page's language (``core.errors.Message``)."""
    return say(detail)


def _organisations() -> list[Organisation]:
    return list(get_session().scalars(select(Organisation).order_by(Organisation.name)))


def _me() -> User:
    user = current_account()
    if user is None:  # login_required ran first
        raise AuthenticationFailed("authentication required")
    return user


@bp.route("/incidents/<reference>/submitted")
@login_required
def submitted(reference: str) -> ResponseReturnValue:
    """The confirmation: the reference, the priority and the acknowledgement deadline."""
    incident = get_incident(get_session(), current_actor(), reference)
    return render_template("incidents/submitted.html", incident=incident)


@bp.route("/incidents/<reference>/attachments/<int:attachment_id>")
@login_required
def attachment(reference: str, attachment_id: int) -> Response:
    """Always a download (never shown inline), for those who may see the incident; a reporter
    only of the files their organisation sent (:func:`incidents.origins.attachments_for`)."""
    session, actor = get_session(), current_actor()
    incident = get_incident(session, actor, reference)
    files = attachments_for(session, actor, incident)
    item = next((a for a in files if a.id == attachment_id), None)
    if item is None:
        raise NotFound(f"no attachment {attachment_id} on {incident.reference}")
    response = send_file(
        open_attachment(intake().upload_dir, item),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=item.filename,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
