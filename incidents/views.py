"""Incident pages of the reporters: the report form and its confirmation, the status page, the
organisation's list and attachment downloads (adapters: parse → one use case → commit → render).

The form and ``POST /api/v1/incidents`` both build an ``IncidentSubmission`` and call
``submit_incident``; every incident is looked up through ``get_incident`` (404 for another
organisation's incident, so that its existence is never revealed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format, get_timezone_location
from babel.units import format_unit
from flask import Blueprint, Response, current_app, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from cert.auth.authz import Actor
from cert.auth.decorators import current_account, current_actor, login_required
from cert.auth.models import Organisation, User
from cert.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from cert.markings import Pap, Tlp, css_class
from cert.web import context, fetch_page, get_session, page_number
from incidents import labels
from incidents.access import visible
from incidents.attachments import TooLarge, add_attachment, open_attachment
from incidents.conversation import check_may_answer, reporter_answer, timeline
from incidents.file_forms import BodyForm
from incidents.forms import IncidentForm
from incidents.models import Incident, IncidentStatus
from incidents.named import event_views
from incidents.origins import followed, reported_observables
from incidents.services import IntakeSettings, get_incident, submit_incident

bp = Blueprint("incidents", __name__, template_folder="templates")
PAGE_SIZE = 25
MAX_EVENTS = 200
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def intake() -> IntakeSettings:
    settings: IntakeSettings = current_app.extensions["incidents"]
    return settings


# ---------------------------------------------------------------- reporting
@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """The report form; staff also choose the organisation concerned."""
    actor, user, now = current_actor(), _me(), context().clock.now()
    form = IncidentForm()
    form.prepare(user, _organisations() if actor.is_cert_staff else None, latest=_local(now))
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
        session.rollback()
        form.show_errors({name: _service_error(detail) for name, detail in exc.fields.items()})
        return None
    errors = _attach(session, actor, incident, _uploads(form), settings)
    if errors:
        session.rollback()  # nothing is kept, the reference number included
        form.show_errors(errors)
        return None
    session.commit()
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
    return str(_("This value is not valid: %(detail)s", detail=detail))


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


# ---------------------------------------------------------------- following
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
            session.rollback()
            form.show_errors(exc.fields or {"": exc.message})
        else:
            session.commit()
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


@bp.route("/incidents/<reference>/attachments/<int:attachment_id>")
@login_required
def attachment(reference: str, attachment_id: int) -> Response:
    """Always a download (never shown inline), for those who may see the incident."""
    incident = get_incident(get_session(), current_actor(), reference)
    item = next((a for a in incident.attachments if a.id == attachment_id), None)
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


# ---------------------------------------------------------------- deadlines
@dataclass(frozen=True)
class Deadline:
    """A due date and how it stands: ``met``, ``late``, ``overdue``, ``pending`` or ``void``."""

    name: str
    due: dt.datetime
    done: dt.datetime | None
    state: str


def deadline(name: str, due: dt.datetime, done: dt.datetime | None, now: dt.datetime) -> Deadline:
    if done is not None:
        return Deadline(name, due, done, "met" if done <= due else "late")
    return Deadline(name, due, None, "overdue" if now > due else "pending")


def deadlines(incident: Incident, now: dt.datetime) -> list[Deadline]:
    """Acknowledgement and resolution (no resolution due for rejected or duplicate reports)."""
    acknowledged = incident.acknowledged_at
    if acknowledged is None and incident.status != IncidentStatus.NEW:
        acknowledged = incident.updated_at  # acknowledged by the move out of "new"
    result = [deadline(labels.N_("Acknowledgement"), incident.ack_due_at, acknowledged, now)]
    if incident.status in {IncidentStatus.REJECTED, IncidentStatus.DUPLICATE}:
        return result
    resolved = incident.resolved_at or incident.closed_at
    result.append(deadline(labels.N_("Resolution"), incident.resolve_due_at, resolved, now))
    return result


# ---------------------------------------------------------------- template helpers
def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(ZoneInfo(intake().timezone))


def local_time(value: dt.datetime | None) -> str:
    """Date and time in the configured time zone, in the page's language (no seconds)."""
    if value is None:
        return "—"
    locale, local = str(get_locale()), _local(value)
    date = format_date(local, "medium", locale=locale)
    time = format_time(local, "short", locale=locale)
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", date).replace("{0}", time)


def timezone_name() -> str:
    """``heure de Casablanca``, ``توقيت الدار البيضاء``…: the configured zone, by its city."""
    zone, locale = ZoneInfo(intake().timezone), str(get_locale())
    city = get_timezone_location(zone, locale=locale, return_city=True)
    return str(_("%(city)s time", city=city))


def file_size(size: int) -> str:
    """``20 Mo``, ``350 KB``, ``12 بايت``… in the page's language."""
    locale = str(get_locale())
    for unit, factor in (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024)):
        if size >= factor:
            return format_unit(round(size / factor, 1), unit, "short", locale=locale)
    return format_unit(size, "digital-byte", "short", locale=locale)


def marking_class(label: str) -> str:
    """``tlp-amber``, ``pap-red``…: the badge colours of a TLP or PAP label."""
    return css_class(Tlp(label) if label.startswith("TLP:") else Pap(label))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "labels": labels,
        "local_time": local_time,
        "timezone_name": timezone_name,
        "file_size": file_size,
        "marking_class": marking_class,
    }
