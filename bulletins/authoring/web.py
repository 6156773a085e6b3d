"""The bulletin pages of the authoring feature (blueprint ``bulletins``):

* ``GET /bulletins`` (``bulletins.index``): CERT staff see every bulletin with status tabs
  (drafts, in review, approved, published), kind/TLP/risk filters and a search by reference or
  title; any other account sees the published bulletins it may read
  (:func:`bulletins.access.readable`), with their published titles;
* ``GET/POST /bulletins/new``: the draft form, with two shortcuts — a draft from incidents
  (``?incidents=REF`` or ``?from=incident&ref=REF`` pre-fill it; ``POST
  /bulletins/new/from-incidents``) and from a CVE list (``POST /bulletins/new/from-cves``);
* ``GET/POST /bulletins/<id>/edit``: the draft form of a draft (any other status: its workflow
  actions only).

The workflow actions (submit, approve, send back, revise) are in :mod:`.web_actions`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bulletins.authoring import queries, services, sources
from bulletins.authoring.forms import Posted, blank_values, values_of
from bulletins.authoring.schemas import DraftIn
from bulletins.blueprints import pages as bp
from bulletins.labels import RISK_LEVELS
from bulletins.models import Bulletin, BulletinKind, BulletinStatus, RiskLevel
from core.errors import NotFound, ValidationFailed
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from core.markings import Tlp
from core.web import context, fetch_page, get_session, page_number, unit_of_work
from core.web.auth import current_actor, require

PER_PAGE = 30
KINDS = {
    "advisory": _l("Vulnerability advisory"),
    "alert": _l("Alert"),
    "note": _l("Security note"),
    "digest": _l("Weekly digest"),
}
RISKS = {level.value: _l(msgid) for level, msgid in RISK_LEVELS.items()}
STATUSES = {
    "draft": _l("Drafts"),
    "review": _l("In review"),
    "approved": _l("Approved"),
    "published": _l("Published"),
}
STATUS = {  # one bulletin's status (the tabs above are plural)
    "draft": _l("draft"),
    "review": _l("in review"),
    "approved": _l("approved"),
    "published": _l("published"),
}
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "ar": "العربية"}


# what a refused field needs, in the reader's language (DraftIn's detail, which names the bad
# value, follows where it helps)
HINTS = {
    "title": (_l("Give a title (at most 300 characters)."), False),
    "product": (_l("Name the product."), False),
    "base_score": (_l("A number from 0 to 10."), False),
    "cves": (_l("CVE ids such as CVE-2026-12345, one per line."), True),
    "cve": (_l("A CVE id such as CVE-2026-12345."), True),
    "links": (_l("http:// or https:// addresses, one per line."), True),
    "indicators": (_l("The type, a space, the value."), True),
    "organisations": (_l("Choose from the list."), True),
    "lists": (_l("Choose from the list."), True),
}


def explained(errors: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, detail in errors.items():
        hint = HINTS.get(key.split("-")[-1] if "-" in key else key) or HINTS.get(key.split("-")[0])
        if hint is None:
            out[key] = detail
        else:
            out[key] = f"{hint[0]} ({detail})" if hint[1] else str(hint[0])
    return out


def is_staff(actor: Actor) -> bool:
    return at_least(actor, Role.ANALYST)


def signed_in(_actor: Actor) -> bool:
    return True


def locale() -> str:
    return str(get_locale() or "fr")


def bulletin_url(bulletin_id: int) -> str:
    """The bulletin's page (``bulletins.show``) when the application has it, else its form."""
    if "bulletins.show" in current_app.view_functions:
        return url_for("bulletins.show", bulletin_id=bulletin_id)
    return url_for("bulletins.edit", bulletin_id=bulletin_id)


def _choice(value: str | None, enum: Any) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@bp.app_template_global("bulletin_labels")
def labels() -> dict[str, Any]:
    return {"kinds": KINDS, "risks": RISKS, "status": STATUS, "url": bulletin_url,
            "show": "bulletins.show" in current_app.view_functions}  # fmt: skip


@bp.get("/bulletins")
@require(signed_in, "the bulletins")
def index() -> ResponseReturnValue:
    actor, session = current_actor(), get_session()
    kind = _choice(request.args.get("kind"), BulletinKind)
    q = request.args.get("q", "")
    offset = (page_number() - 1) * PER_PAGE
    if not is_staff(actor):
        page = fetch_page(queries.reader_list(actor, kind=kind, q=q), limit=PER_PAGE, offset=offset)
        titles = queries.published_titles(session, page.items, locale())
        return render_template(
            "bulletins/index.html",
            page=page,
            titles=titles,
            staff=False,
            kind=kind,
            q=q,
            status=None,
            tlp=None,
            risk=None,
            counts={},
        )
    status = _choice(request.args.get("status"), BulletinStatus)
    tlp = _choice(request.args.get("tlp"), Tlp)
    risk = _choice(request.args.get("risk"), RiskLevel)
    query = queries.staff_list(status=status, kind=kind, tlp=tlp, risk=risk, q=q)
    page = fetch_page(query, limit=PER_PAGE, offset=offset)
    return render_template(
        "bulletins/index.html",
        page=page,
        titles=queries.live_titles(page.items, locale()),
        staff=True,
        kind=kind,
        q=q,
        status=status,
        tlp=tlp,
        risk=risk,
        counts=queries.status_counts(session),
        tabs=STATUSES,
        tlps=list(Tlp),
    )


def _parsed(posted: Posted) -> DraftIn:
    """The posted draft, or every refusal at once (the form's own and DraftIn's)."""
    data = posted.data()
    try:
        parsed = sources.parse_draft(data)
    except ValidationFailed as exc:
        raise ValidationFailed("invalid bulletin", fields=exc.fields) from None
    if posted.errors:
        raise ValidationFailed("invalid bulletin", fields={})
    return parsed


def _incident_refs() -> list[str]:
    raw = request.args.getlist("incidents") + (
        request.args.getlist("ref") if request.args.get("from") == "incident" else []
    )
    return [ref.strip() for value in raw for ref in value.replace(",", " ").split() if ref.strip()]


def _form(values: dict[str, Any], errors: dict[str, str], bulletin: Bulletin | None = None,
          **shortcuts: Any) -> str:  # fmt: skip
    session = get_session()
    return render_template(
        "bulletins/form.html",
        values=values,
        errors=errors,
        bulletin=bulletin,
        organisations=queries.organisation_choices(session),
        lists=queries.list_choices(session),
        tlps=list(Tlp),
        tlp_options=[(str(t), str(t)) for t in Tlp],
        text_languages=LANGUAGE_NAMES,
        **shortcuts,
    )


def _new_page(values: dict[str, Any], errors: dict[str, str], **shortcuts: Any) -> str:
    shortcuts.setdefault("incident_refs", " ".join(_incident_refs()))
    shortcuts.setdefault("shortcut_values", {})
    shortcuts.setdefault("shortcut_errors", {})
    return _form(values, errors, None, **shortcuts)


@bp.route("/bulletins/new", methods=["GET", "POST"])
@require(is_staff, "writing bulletins")
def new() -> ResponseReturnValue:
    if request.method == "GET":
        return _new_page(blank_values(), {})
    posted = Posted(request.form)
    if "add_rows" in request.form:
        return _new_page(posted.values, {})
    try:
        data = _parsed(posted)
        bulletin = services.create_draft(
            get_session(), current_actor(), data, clock=context().clock
        )
    except ValidationFailed as exc:
        unit_of_work().rollback()
        posted.refused(exc.fields)
        return _new_page(posted.values, explained(posted.errors)), 422
    unit_of_work().commit()
    flash(_("The draft is saved."), "success")
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))


@bp.post("/bulletins/new/from-incidents")
@require(is_staff, "writing bulletins")
def from_incidents() -> ResponseReturnValue:
    refs = request.form.get("incidents", "").replace(",", " ").split()
    values = {k: request.form.get(k, "") for k in ("incidents", "kind", "tlp")}
    try:
        bulletin = sources.draft_from_incidents(
            get_session(),
            current_actor(),
            refs,
            kind=values["kind"] or "alert",
            tlp=values["tlp"] or "TLP:AMBER",
            clock=context().clock,
        )
    except (ValidationFailed, NotFound) as exc:
        unit_of_work().rollback()
        errors = {k if k in values else "incidents": v for k, v in exc.fields.items()}
        errors = errors or {"incidents": exc.message}
        return _new_page(blank_values(), {}, incident_refs=values["incidents"],
                         shortcut_values=values, shortcut_errors=errors), 422  # fmt: skip
    unit_of_work().commit()
    flash(_("A draft was written from the incidents: complete it."), "success")
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))


@bp.post("/bulletins/new/from-cves")
@require(is_staff, "writing bulletins")
def from_cves() -> ResponseReturnValue:
    values = {k: request.form.get(k, "") for k in ("cve_list", "cve_kind")}
    try:
        bulletin = sources.draft_from_cves(
            get_session(),
            current_actor(),
            [values["cve_list"]],
            kind=values["cve_kind"] or "advisory",
            clock=context().clock,
        )
    except ValidationFailed as exc:
        unit_of_work().rollback()
        errors = {"cve_kind" if k == "kind" else "cve_list": v for k, v in exc.fields.items()}
        return _new_page(blank_values(), {}, shortcut_values=values, shortcut_errors=errors), 422
    unit_of_work().commit()
    flash(_("A draft was written from the CVE list: complete it."), "success")
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))


@bp.route("/bulletins/<int:bulletin_id>/edit", methods=["GET", "POST"])
@require(is_staff, "writing bulletins")
def edit(bulletin_id: int) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    bulletin = services.get_bulletin(session, actor, bulletin_id)
    if request.method == "GET" or bulletin.status != BulletinStatus.DRAFT:
        organisations, lists = queries.audience_of(session, bulletin)
        return _form(values_of(bulletin, organisations, lists), {}, bulletin)
    posted = Posted(request.form)
    if "add_rows" in request.form:
        return _form(posted.values, {}, bulletin)
    try:
        services.update_draft(session, actor, bulletin, _parsed(posted), clock=context().clock)
    except ValidationFailed as exc:
        unit_of_work().rollback()
        posted.refused(exc.fields)
        bulletin = services.get_bulletin(get_session(), actor, bulletin_id)
        return _form(posted.values, explained(posted.errors), bulletin), 422
    unit_of_work().commit()
    flash(_("The draft is saved."), "success")
    return redirect(url_for("bulletins.edit", bulletin_id=bulletin_id))
