"""The dashboard page, the statistics exports and the PDF incident report (adapters).

* ``/dashboard``: CERT staff see every incident they may see (analysts: no ``TLP:RED`` incident
  they are not named on); reporters get the same page restricted to their organisation — the
  restriction comes from :func:`incidents.access.visible`, and the organisation and sector charts
  (one bar) are left out for them.
* ``/stats.csv`` and ``/stats.json``: CERT staff only (the national report), ``from``/``to``,
  ``centre`` (one centre's; a member of one sectoral centre gets theirs by default).
* ``/incidents/<reference>/report.pdf``: whoever may see the incident (others get the same 404
  as for a missing one); staff get the CERT version, reporters the reporter version (public
  timeline, no internal fields); staff also get the reporter version with ``?version=reporter``
  (a reporter asking for ``cert`` still gets theirs). Always a download.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from core.auth.centres import get_centre_by_slug, list_centres
from core.errors import NotFound, ValidationFailed
from core.i18n import N_, RTL_LOCALES
from core.identity.authz import Actor
from core.identity.centres import Centre
from core.identity.models import Role
from core.web import context, error_response, get_session
from core.web.auth import current_actor, login_required, require_at_least
from incidents.intake.service import get_incident
from incidents.named import event_views
from incidents.origins import origins_of, reported_attachments, reported_observables
from incidents.reporting import daily_read
from incidents.reporting import dashboard as figures
from incidents.reporting.by_centre import by_centre
from incidents.reporting.charts import dashboard_charts
from incidents.reporting.dashboard import GRANULARITIES, Granularity, Period, parse_period
from incidents.reporting.report_pdf import render_report
from incidents.reporting.stats import Statistics, as_csv, as_json, statistics
from incidents.web import intake
from incidents.workspace.conversation import timeline
from incidents.workspace.tasks import task_list

bp = Blueprint("dashboard", __name__, template_folder="../templates")
PRESETS = ("30", "90", "365")
MAX_EVENTS = 200
VERSIONS = ("cert", "reporter")


def rtl() -> bool:
    return str(get_locale()) in RTL_LOCALES


def _period() -> Period:
    """The period of ``?period=30|90|365|custom`` (custom: ``from`` and ``to``)."""
    zone, choice = intake().timezone, request.args.get("period") or PRESETS[0]
    if choice == "custom":
        return parse_period(request.args.get("from"), request.args.get("to"), zone=zone)
    if choice not in PRESETS:
        raise ValidationFailed(
            "invalid period",
            fields={"period": N_("one of %(values)s", values="30, 90, 365, custom")},
        )
    return Period.last_days(int(choice), now=context().clock.now(), zone=zone)


def _granularity() -> Granularity | None:
    value = request.args.get("granularity") or None
    for name in GRANULARITIES:
        if value == name:
            return name
    if value is not None:
        raise ValidationFailed(
            "invalid granularity", fields={"granularity": N_("day, week or month")}
        )
    return None


@bp.route("/dashboard")
@login_required
def page() -> ResponseReturnValue:
    """Charts over the chosen period, each with its figures in a table; one centre's figures
    (``?centre=S``; a member of one sectoral centre: theirs by default), or on the national view
    a table per centre."""
    actor, now, session = current_actor(), context().clock.now(), get_session()
    centres = list_centres(session) if actor.is_cert_staff else []
    try:
        period, granularity = _period(), _granularity()
        centre = chosen_centre(session, actor)
    except ValidationFailed as exc:
        return render_template(
            "incidents/dashboard/page.html", board=None, errors=exc.fields, args=request.args,
            centres=centres, centre=None, staff=actor.is_cert_staff, centre_name=_centre_name,
        ), 422  # fmt: skip
    centre_id = centre.id if centre else None
    board = figures.dashboard(
        session, actor, period, now=now, granularity=granularity, centre=centre_id
    )
    # the national view of a CERT with sectoral centres: a table per centre
    national = actor.is_cert_staff and actor.centres is None and centre is None
    national = national and len(centres) > 1
    per_centre = (
        by_centre(session, actor, period, now=now, daily=daily_read.usable(session, period))
        if national
        else []
    )

    def link(args: Mapping[str, str]) -> str:
        values: dict[str, Any] = dict(args)
        if centre is not None:
            values["centre"] = centre.slug
        return url_for("queue.index", **values)

    return render_template(
        "incidents/dashboard/page.html",
        board=board,
        errors={},
        args=request.args,
        staff=actor.is_cert_staff,
        centres=centres,
        centre=centre,
        per_centre=per_centre,
        centre_name=_centre_name,
        charts=dashboard_charts(
            board,
            locale=str(get_locale()),
            _=_,
            rtl=rtl(),
            staff=actor.is_cert_staff,
            link=link if actor.is_cert_staff else None,  # the queue is the CERT's
        ),
    )


def chosen_centre(session: Session, actor: Actor) -> Centre | None:
    """The centre of ``?centre=S``; without the argument, a member of exactly one centre but
    the national one gets theirs (``?centre=`` empty: every centre they see). ``ValidationFailed``
    naming ``centre`` for an unknown one. A centre the actor is not in is not refused: its
    figures are what :func:`incidents.access.visible` lets them see of it (often nothing)."""
    if "centre" not in request.args:
        if actor.is_cert_staff and actor.centres is not None and len(actor.centres) == 1:
            (only,) = actor.centres
            return session.get(Centre, only)
        return None
    slug = request.args.get("centre", "").strip().lower()
    if not slug:
        return None
    try:
        return get_centre_by_slug(session, slug[:64])
    except NotFound:
        raise ValidationFailed(
            "invalid centre", fields={"centre": N_("unknown centre %(slug)s", slug=slug[:64])}
        ) from None


def _centre_name(centre: Centre) -> str:
    return centre.display_name(str(get_locale()))


def _stats_period() -> Period:
    return parse_period(request.args.get("from"), request.args.get("to"), zone=intake().timezone)


def _invalid(exc: ValidationFailed) -> ResponseReturnValue:
    problems = "; ".join(f"{name}: {problem}" for name, problem in exc.fields.items())
    return error_response(422, exc.code, exc.message, exc.fields, explanation=problems)


@bp.route("/stats.csv")
@require_at_least(Role.ANALYST)
def stats_csv() -> ResponseReturnValue:
    """The national-report statistics as CSV (formula-safe cells)."""
    try:
        period = _stats_period()
        centre = chosen_centre(get_session(), current_actor())
    except ValidationFailed as exc:
        return _invalid(exc)
    stats = _statistics(period, centre)
    part = f"-{centre.slug}" if centre else ""
    name = f"vigie-stats{part}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(
        as_csv(stats),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/stats.json")
@require_at_least(Role.ANALYST)
def stats_json() -> ResponseReturnValue:
    """The same statistics as JSON."""
    try:
        period = _stats_period()
        centre = chosen_centre(get_session(), current_actor())
    except ValidationFailed as exc:
        error = {"code": exc.code, "message": exc.message, "fields": exc.fields}
        return jsonify({"error": error}), 422
    stats = _statistics(period, centre)
    body = json.dumps(as_json(stats), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json")


def _statistics(period: Period, centre: Centre | None) -> Statistics:
    return statistics(
        get_session(), current_actor(), period, now=context().clock.now(), centre=centre
    )


@bp.route("/incidents/<reference>/report.pdf")
@login_required
def report(reference: str) -> Response:
    """The incident report as a PDF download: the CERT version for staff, the reporter version
    for reporters — and for staff who ask for it (``?version=reporter``)."""
    actor, session = current_actor(), get_session()
    incident = get_incident(session, actor, reference)
    version = request.args.get("version") or ("cert" if actor.is_cert_staff else "reporter")
    if version not in VERSIONS:
        raise ValidationFailed("invalid version", fields={"version": "cert or reporter"})
    staff = actor.is_cert_staff and version == "cert"
    events = timeline(session, actor, incident, public_only=not staff, limit=MAX_EVENTS)
    tasks = list(session.scalars(task_list(incident))) if staff else []
    pdf = render_report(
        incident,
        events=event_views(session, actor, events),
        observables=incident.observables
        if staff
        else reported_observables(get_session(), incident),
        attachments=incident.attachments if staff else reported_attachments(session, incident),
        origins=origins_of(session, actor, incident) if staff else {},
        tasks=tasks,
        staff=staff,
        locale=str(get_locale()),
        zone=intake().timezone,
        now=context().clock.now(),
    )
    suffix = "-reporter" if actor.is_cert_staff and not staff else ""  # staff keep both apart
    name = f"{incident.reference}{suffix}.pdf"
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
