"""The playbooks' pages (blueprint ``playbooks``): the list and a playbook's detail (its workflow
drawn as SVG, steps, versions, triggers and schedules) for CERT staff; import, enable and
disable for leads; the export of any stored version. Runs: :mod:`playbooks.pages.web_runs`."""

from __future__ import annotations

import re

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from core.errors import Conflict
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from core.web import context, fetch_page, get_session, page_number, unit_of_work
from core.web.auth import current_actor, require
from playbooks.blueprints import pages as bp
from playbooks.library.manage import set_enabled
from playbooks.library.services import (
    InvalidPlaybook,
    document_of,
    get_playbook,
    import_playbook,
)
from playbooks.models import Phase
from playbooks.pages import queries
from playbooks.pages.forms import ImportForm
from playbooks.pages.graph_svg import render
from playbooks.rules.graph import layout
from playbooks.rules.validate import Problem

PER_PAGE = 50
STEP_TYPES = {
    "start": _l("Workflow start"),
    "end": _l("Workflow end"),
    "action": _l("Action"),
    "playbook-action": _l("Sub-playbook"),
    "parallel": _l("Parallel"),
    "if-condition": _l("If"),
    "while-condition": _l("While"),
    "switch-condition": _l("Switch"),
}
EDGE_KINDS = {
    "success": _l("success"),
    "failure": _l("failure"),
    "true": _l("true"),
    "false": _l("false"),
    "branch": _l("branch"),
}
TRIGGER_EVENTS = {
    "created": _l("Incident reported"),
    "classified": _l("Incident classified"),
    "priority": _l("Priority changed"),
    "markings": _l("Markings changed"),
    "status": _l("Status changed"),
    "intel-match": _l("Threat match found"),
}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def is_staff(actor: Actor) -> bool:
    return at_least(actor, Role.ANALYST)


def is_lead(actor: Actor) -> bool:
    return at_least(actor, Role.LEAD)


@bp.get("/playbooks")
@require(is_staff, "the playbooks")
def index() -> ResponseReturnValue:
    phase = request.args.get("phase") or None
    enabled = {"yes": True, "no": False}.get(request.args.get("enabled", ""))
    query = queries.playbooks(phase=Phase(phase) if phase in set(Phase) else None, enabled=enabled)
    page = fetch_page(query, limit=PER_PAGE, offset=(page_number() - 1) * PER_PAGE)
    counts = queries.run_counts(get_session(), {p.cacao_id for p in page.items})
    return render_template(
        "playbooks/index.html",
        page=page,
        counts=counts,
        phase=phase if phase in set(Phase) else "",
        enabled=request.args.get("enabled", ""),
        lead=is_lead(current_actor()),
    )


@bp.get("/playbooks/<int:playbook_id>")
@require(is_staff, "the playbooks")
def detail(playbook_id: int) -> ResponseReturnValue:
    session = get_session()
    playbook = get_playbook(session, playbook_id)
    document = document_of(playbook)
    svg = render(
        layout(document),
        type_names={k: str(v) for k, v in STEP_TYPES.items()},
        edge_names={k: str(v) for k, v in EDGE_KINDS.items()},
        title=_("Workflow of %(name)s", name=playbook.name),
    )
    return render_template(
        "playbooks/detail.html",
        playbook=playbook,
        document=document,
        graph=svg,
        steps=queries.steps(document),
        step_types=STEP_TYPES,
        trigger_events=TRIGGER_EVENTS,
        versions=queries.versions(session, playbook.cacao_id),
        triggers=queries.triggers(session, playbook.cacao_id),
        schedules=queries.schedules(session, playbook.cacao_id),
        runs=queries.run_counts(session, [playbook.cacao_id]).get(playbook.cacao_id, 0),
        lead=is_lead(current_actor()),
    )


@bp.post("/playbooks/<int:playbook_id>/<any(enable, disable):action>")
@require(is_lead, "enabling or disabling a playbook")
def toggle(playbook_id: int, action: str) -> ResponseReturnValue:
    playbook = get_playbook(get_session(), playbook_id)
    enabled = action == "enable"
    set_enabled(get_session(), current_actor(), playbook.cacao_id, enabled, clock=context().clock)
    unit_of_work().commit()
    if enabled:
        flash(_("The playbook %(name)s is enabled.", name=playbook.name), "success")
    else:
        flash(
            _(
                "The playbook %(name)s is disabled: its triggers and schedules no longer fire.",
                name=playbook.name,
            ),
            "success",
        )
    return redirect(url_for("playbooks.detail", playbook_id=playbook_id))


@bp.get("/playbooks/<int:playbook_id>/export")
@require(is_staff, "the playbooks")
def export(playbook_id: int) -> ResponseReturnValue:
    """The stored document, byte for byte, as a download."""
    playbook = get_playbook(get_session(), playbook_id)
    stem = re.sub("-{2,}", "-", SAFE_NAME.sub("-", playbook.name)).strip("-.")[:60] or "playbook"
    stamp = playbook.modified.strftime("%Y%m%dT%H%M%SZ")
    response = Response(playbook.document, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.json"'
    return response


@bp.route("/playbooks/import", methods=["GET", "POST"])
@require(is_lead, "importing a playbook")
def import_page() -> ResponseReturnValue:
    form = ImportForm()
    if request.method == "GET":
        return _import_form(form, [])
    try:
        ok, payload = form.validate_on_submit(), form.payload()
    except RequestEntityTooLarge:
        return _import_form(form, [Problem("$", _("the document is too large"))]), 413
    if not ok or payload is None:
        return _import_form(form, []), 422
    try:
        imported = import_playbook(get_session(), current_actor(), payload, clock=context().clock)
    except InvalidPlaybook as exc:
        unit_of_work().rollback()
        return _import_form(form, exc.problems), 422
    except Conflict as exc:
        unit_of_work().rollback()
        problems = [Problem(path, message) for path, message in exc.fields.items()]
        return _import_form(form, problems or [Problem("$", exc.message)]), 409
    unit_of_work().commit()
    playbook = imported.playbook
    if imported.created:
        flash(_("The playbook %(name)s has been imported.", name=playbook.name), "success")
    else:
        flash(_("This version of %(name)s was already imported.", name=playbook.name), "info")
    return redirect(url_for("playbooks.detail", playbook_id=playbook.id))


def _import_form(form: ImportForm, problems: list[Problem]) -> str:
    return render_template("playbooks/import.html", form=form, problems=problems)
