"""Distribution lists' pages (blueprint ``bulletins``): leads manage every list and its members
(``/bulletins/lists``); an account of an organisation manages the extra addresses of its own
organisation's list (``/bulletins/my-lists``) and sees no other list (404). Every change goes
through :mod:`bulletins.distribution.services` (audited there, as ``cert lists`` does)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from bulletins.audience import resolve
from bulletins.blueprints import pages as bp
from bulletins.distribution import services as svc
from bulletins.distribution.forms import (
    LIST_FIELDS,
    MEMBER_FIELDS,
    ActionForm,
    ListForm,
    MemberForm,
    RemoveForm,
    SettingsForm,
)
from bulletins.models import DistributionList, ListKind
from core.errors import NotFound, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationKind
from core.web import Page, context, get_session, page_number, say, unit_of_work
from core.web.auth import current_actor, require

PER_PAGE = 50


def _signed_in(_actor: Actor) -> bool:
    return True


def _organisations() -> list[tuple[str, str]]:
    arabic = str(get_locale()) == "ar"
    rows = get_session().execute(
        select(Organisation.slug, Organisation.name, Organisation.name_ar)
        .where(Organisation.kind != OrganisationKind.CERT)
        .order_by(Organisation.name)
    )
    return [(slug, name_ar if arabic and name_ar else name) for slug, name, name_ar in rows]


def _locale() -> str:
    return str(get_locale())


def _list_form(form: ListForm) -> ListForm:
    session = get_session()
    form.fill(_organisations(), svc.sectors(session), svc.centre_choices(session, _locale()))
    return form


def _managed(slug: str) -> DistributionList:
    """The list ``slug`` if the signed-in account manages its members; 404 otherwise (a list
    of another organisation is not shown to exist)."""
    try:
        dlist = svc.get_list(get_session(), slug)
    except NotFound:
        abort(404)
    if not svc.can_manage_members(current_actor(), dlist):
        abort(404)
    return dlist


def _refused(exc: ValidationFailed, form: Any, fields: dict[str, str]) -> None:
    unit_of_work().rollback()
    for name, reason in exc.fields.items():
        field = getattr(form, fields[name]) if name in fields else None
        (field.errors if field is not None else form.form_errors).append(say(reason))
    if not exc.fields:
        form.form_errors.append(say(exc.message))


# ---------------------------------------------------------------- lists (leads)
@bp.route("/bulletins/lists", methods=["GET", "POST"])
@require(svc.is_lead, "distribution lists")
def lists() -> ResponseReturnValue:
    form = _list_form(ListForm())
    status = 200
    if form.validate_on_submit():
        unit_of_work().write()
        try:
            dlist = svc.create_list(get_session(), current_actor(), slug=form.slug.data or "",
                                    name=form.name.data or "", kind=form.kind.data or "",
                                    organisation=form.organisation.data or None,
                                    sector=form.sector.data or None,
                                    centre=form.centre.data or None,
                                    digest=form.digest.data or "none",
                                    language=form.language.data or "fr",
                                    clock=context().clock)  # fmt: skip
        except ValidationFailed as exc:
            _refused(exc, form, LIST_FIELDS)
            status = 422
        else:
            unit_of_work().commit()
            flash(_("The list %(slug)s has been created.", slug=dlist.slug), "success")
            return redirect(url_for("bulletins.list_detail", slug=dlist.slug))
    elif form.is_submitted():
        status = 422
    offset = (page_number() - 1) * PER_PAGE
    rows = svc.list_lists(get_session(), limit=PER_PAGE, offset=offset)
    page = Page(rows, svc.count_lists(get_session()), PER_PAGE, offset)
    names = _organisation_names(r.list.organisation_id for r in rows)
    centres = svc.centre_names(get_session(), (r.list.centre_id for r in rows), _locale())
    return render_template("bulletins/distribution/lists.html", rows=rows, form=form,
                           names=names, centres=centres, page=page), status  # fmt: skip


def _organisation_names(ids: Any) -> dict[int, str]:
    return svc.organisation_names(get_session(), ids, str(get_locale()))


@bp.get("/bulletins/my-lists")
@require(_signed_in, "distribution lists")
def my_lists() -> ResponseReturnValue:
    actor = current_actor()
    if svc.is_lead(actor):
        return redirect(url_for("bulletins.lists"))
    return render_template("bulletins/distribution/my_lists.html",
                           lists=svc.own_lists(get_session(), actor))  # fmt: skip


@bp.get("/bulletins/lists/<slug>")
@require(_signed_in, "distribution lists")
def list_detail(slug: str) -> ResponseReturnValue:
    return _detail_page(_managed(slug))


def _detail_page(
    dlist: DistributionList,
    *,
    member_form: MemberForm | None = None,
    settings_form: SettingsForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    lead = svc.is_lead(current_actor())
    member_form = member_form or MemberForm()
    member_form.fill(_organisations())
    if settings_form is None:
        settings_form = SettingsForm(data={"name": dlist.name, "digest": dlist.digest.value,
                                           "language": dlist.language})  # fmt: skip
    settings_form.fill()
    recipients = resolve(get_session(), [dlist])
    wanted = [dlist.organisation_id, *(m.organisation_id for m in dlist.members)]
    names = _organisation_names(wanted)
    centres = svc.centre_names(get_session(), [dlist.centre_id], _locale())
    return render_template(
        "bulletins/distribution/detail.html", dlist=dlist, lead=lead, names=names, centres=centres,
        recipients=len(recipients), member_form=member_form, settings_form=settings_form,
        remove_form=RemoveForm(), action_form=ActionForm(),
        has_members=dlist.kind in (ListKind.NAMED, ListKind.ORGANISATION),
    ), status  # fmt: skip


@bp.post("/bulletins/lists/<slug>/members")
@require(_signed_in, "distribution lists")
def add_member(slug: str) -> ResponseReturnValue:
    dlist = _managed(slug)
    form = MemberForm()
    if not form.validate_on_submit():
        return _detail_page(dlist, member_form=form, status=422)
    unit_of_work().write()
    try:
        member = svc.add_member(get_session(), current_actor(), dlist, email=form.email.data or "",
                                name=form.name.data or "", language=form.language.data or None,
                                organisation=form.organisation.data or None,
                                clock=context().clock)  # fmt: skip
    except ValidationFailed as exc:
        _refused(exc, form, MEMBER_FIELDS)
        return _detail_page(_managed(slug), member_form=form, status=422)
    unit_of_work().commit()
    flash(_("%(email)s has been added to the list.", email=member.email), "success")
    return redirect(url_for("bulletins.list_detail", slug=slug))


@bp.post("/bulletins/lists/<slug>/members/remove")
@require(_signed_in, "distribution lists")
def remove_member(slug: str) -> ResponseReturnValue:
    dlist = _managed(slug)
    form = RemoveForm()
    if not form.validate_on_submit():
        abort(400)
    unit_of_work().write()
    try:
        svc.remove_member(get_session(), current_actor(), dlist, form.email.data or "",
                          clock=context().clock)  # fmt: skip
    except ValidationFailed as exc:
        unit_of_work().rollback()
        flash(say(exc.fields.get("email", exc.message)), "error")
        return redirect(url_for("bulletins.list_detail", slug=slug))
    unit_of_work().commit()
    flash(_("%(email)s has been removed from the list.", email=form.email.data), "success")
    return redirect(url_for("bulletins.list_detail", slug=slug))


@bp.post("/bulletins/lists/<slug>/settings")
@require(svc.is_lead, "distribution lists")
def list_settings(slug: str) -> ResponseReturnValue:
    dlist = _managed(slug)
    form = SettingsForm()
    if not form.validate_on_submit():
        return _detail_page(dlist, settings_form=form, status=422)
    unit_of_work().write()
    try:
        svc.update_list(get_session(), current_actor(), dlist, name=form.name.data or "",
                        digest=form.digest.data or "", language=form.language.data or "",
                        clock=context().clock)  # fmt: skip
    except ValidationFailed as exc:
        _refused(exc, form, {"name": "name", "digest": "digest", "language": "language"})
        return _detail_page(_managed(slug), settings_form=form, status=422)
    unit_of_work().commit()
    flash(_("The list has been saved."), "success")
    return redirect(url_for("bulletins.list_detail", slug=slug))


@bp.post("/bulletins/lists/<slug>/delete")
@require(svc.is_lead, "distribution lists")
def delete_list(slug: str) -> ResponseReturnValue:
    dlist = _managed(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    unit_of_work().write()
    svc.delete_list(get_session(), current_actor(), dlist, clock=context().clock)
    unit_of_work().commit()
    flash(_("The list %(slug)s has been deleted.", slug=slug), "success")
    return redirect(url_for("bulletins.lists"))
