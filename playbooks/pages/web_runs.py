"""Playbook runs' pages (blueprint ``playbooks``): the run history (filters status, playbook,
incident) and a run's per-step log for CERT staff; cancelling a run (leads) and starting a
playbook on an incident (staff, from the incident file's panel, :mod:`playbooks.pages.panel`).

A run on an incident the viewer may not see is neither listed nor shown (404), as the incident.
The engine's use cases (:mod:`playbooks.engine.services`) are imported inside the handlers.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.web import context, fetch_page, get_session, page_number, say, unit_of_work
from core.web.auth import current_actor, require
from incidents.access import can_see, require_work
from incidents.intake.service import get_incident
from incidents.models import Incident
from playbooks.blueprints import pages as bp
from playbooks.library.services import get_playbook
from playbooks.models import Playbook, RunStatus
from playbooks.pages import queries
from playbooks.pages.forms import StartForm
from playbooks.pages.web import STEP_TYPES, is_lead, is_staff

PER_PAGE = 50


@bp.get("/playbooks/runs")
@require(is_staff, "the playbook runs")
def runs() -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    status = request.args.get("status") or None
    playbook = _playbook_filter()
    incident = _incident_filter()
    query = queries.runs(
        actor,
        status=RunStatus(status) if status in set(RunStatus) else None,
        cacao_id=playbook.cacao_id if playbook is not None else None,
        incident_id=incident.id if incident is not None else None,
    )
    page = fetch_page(query, limit=PER_PAGE, offset=(page_number() - 1) * PER_PAGE)
    return render_template(
        "playbooks/runs.html",
        page=page,
        incidents=queries.incidents_of(session, page.items),
        status=status if status in set(RunStatus) else "",
        playbook=playbook,
        incident=incident,
        reference=request.args.get("incident", ""),
    )


def _playbook_filter() -> Playbook | None:
    raw = request.args.get("playbook", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise ValidationFailed("invalid playbook", fields={"playbook": "not a playbook number"})
    return get_playbook(get_session(), int(raw))


def _incident_filter() -> Incident | None:
    reference = request.args.get("incident", "").strip()
    if not reference:
        return None
    return get_incident(get_session(), current_actor(), reference[:64])


@bp.get("/playbooks/runs/<int:run_id>")
@require(is_staff, "the playbook runs")
def run(run_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    found = queries.access_run(session, actor, run_id)
    incident = session.get(Incident, found.incident_id) if found.incident_id else None
    children = [c for c in queries.child_runs(session, found) if _visible(c.incident_id)]
    return render_template(
        "playbooks/run.html",
        run=found,
        incident=incident,
        steps=queries.step_runs(session, found),
        children={c.id: c for c in children},
        parent=_parent(found.parent_run_id),
        pretty=pretty,
        step_types=STEP_TYPES,
        lead=is_lead(actor),
        can_cancel=not found.status.finished and _engine_has("cancel_run"),
    )


def _visible(incident_id: int | None) -> bool:
    if incident_id is None:
        return True
    incident = get_session().get(Incident, incident_id)
    return incident is not None and can_see(current_actor(), incident)


def _parent(run_id: int | None) -> Any:
    if run_id is None:
        return None
    try:
        return queries.access_run(get_session(), current_actor(), run_id)
    except NotFound:
        return None


def pretty(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def engine(name: str) -> Callable[..., Any] | None:
    """The engine's use case ``name`` (:mod:`playbooks.engine.services`), imported when a
    handler needs it; ``None`` while the engine does not provide it."""
    try:
        services = importlib.import_module("playbooks.engine.services")
    except ImportError:
        return None
    found: Callable[..., Any] | None = getattr(services, name, None)
    return found


def _engine_has(name: str) -> bool:
    return engine(name) is not None


@bp.post("/playbooks/runs/<int:run_id>/cancel")
@require(is_lead, "cancelling a playbook run")
def cancel(run_id: int) -> ResponseReturnValue:
    cancel_run = engine("cancel_run")
    if cancel_run is None:
        raise NotFound("cancelling runs is not available")
    found = queries.access_run(get_session(), current_actor(), run_id)
    try:
        cancel_run(get_session(), current_actor(), found, clock=context().clock)
    except Conflict:  # finished meanwhile (another lead, the engine)
        unit_of_work().rollback()
        flash(_("The run had already finished: nothing was cancelled."), "warning")
        return redirect(url_for("playbooks.run", run_id=run_id))
    unit_of_work().commit()
    flash(_("The run has been cancelled."), "success")
    return redirect(url_for("playbooks.run", run_id=run_id))


@bp.post("/incidents/<reference>/playbooks")
@require(is_staff, "starting a playbook")
def start(reference: str) -> ResponseReturnValue:
    start_manual_run = engine("start_manual_run")
    if start_manual_run is None:
        raise NotFound("starting playbooks by hand is not available")
    session, actor = get_session(), current_actor()
    incident = get_incident(session, actor, reference)
    require_work(actor, incident, "starting a playbook")  # 403: shared read-only
    form = StartForm()
    form.offer(queries.startable(session))
    back = url_for("incident_file.show", reference=incident.reference, _anchor="playbooks")
    if not form.validate_on_submit():
        flash(_("Choose a playbook to start."), "danger")
        return redirect(back)
    playbook = session.scalar(select(Playbook).where(Playbook.id == int(form.playbook.data)))
    if playbook is None:
        raise NotFound("no such playbook")
    settings = current_app.extensions["playbooks"]
    try:
        started = start_manual_run(
            session, actor, playbook, clock=context().clock, settings=settings, incident=incident
        )
    except (ValidationFailed, PermissionDenied, Conflict) as exc:
        unit_of_work().rollback()
        reason = "; ".join(say(v) for v in exc.fields.values()) or exc.message
        flash(_("The playbook could not start: %(reason)s", reason=reason), "danger")
        return redirect(back)
    unit_of_work().commit()
    flash(_("The playbook %(name)s has started (run %(id)s).", name=playbook.name, id=started.id),
          "success")  # fmt: skip
    return redirect(back)
