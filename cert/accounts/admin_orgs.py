"""Administrators managing organisations (admins only): create one, its page (French and
Arabic names, kind, sector, contact addresses, telephone; its accounts), and its registered
domains and IP ranges (add, remove). Every change goes through :mod:`core.auth.organisations`,
as ``cert orgs …`` does, and is audited there."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from cert.accounts.admin_forms import AssetForm, OrganisationForm, show_errors
from cert.accounts.forms import ConfirmForm
from core.auth import organisations as orgs
from core.errors import Conflict, ValidationFailed
from core.i18n import RTL_LOCALES
from core.identity.authz import can_manage_users
from core.identity.models import Organisation, User
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, require


def _local_name(org: Organisation) -> str:
    """The organisation's name in the page's script: Arabic on Arabic pages when it has one."""
    return org.name_ar if str(get_locale()) in RTL_LOCALES and org.name_ar else org.name


def _sectors() -> list[str]:
    """The sectors already in use, offered while typing one (the same word groups them)."""
    query = select(Organisation.sector).where(Organisation.sector.is_not(None)).distinct()
    return sorted(s for s in get_session().scalars(query) if s)


@require(can_manage_users, "creating an organisation")
def new_organisation() -> ResponseReturnValue:
    form = OrganisationForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _new_page(form), status
    try:
        org = orgs.create_organisation(
            get_session(),
            current_actor(),
            slug=form.slug.data,
            name=form.name.data,
            name_ar=form.name_ar.data,
            kind=form.kind.data,
            sector=form.sector.data,
            contact_emails=form.addresses(),
            phone=form.phone.data,
            clock=context().clock,
        )
    except (ValidationFailed, Conflict) as exc:
        unit_of_work().rollback()
        return _new_page(form, show_errors(form, exc)), 422
    unit_of_work().commit()
    flash(_("The organisation %(name)s has been created.", name=_local_name(org)), "success")
    return redirect(url_for("auth.organisation", organisation_id=org.id))


def _new_page(form: OrganisationForm, others: list[str] | None = None) -> str:
    return render_template(
        "auth/organisation_new.html", form=form, others=others or [], sectors=_sectors()
    )


def _page(
    org: Organisation,
    *,
    form: OrganisationForm | None = None,
    asset_form: AssetForm | None = None,
    others: list[str] | None = None,
) -> str:
    if form is None:
        form = OrganisationForm(
            formdata=None,
            slug=org.slug,
            name=org.name,
            name_ar=org.name_ar,
            kind=org.kind.value,
            sector=org.sector,
            contact_emails="\n".join(org.contact_emails or []),
            phone=org.phone,
        )
    db = get_session()
    accounts = db.scalar(select(func.count()).where(User.organisation_id == org.id)) or 0
    return render_template(
        "auth/organisation.html",
        org=org,
        form=form,
        asset_form=asset_form or AssetForm(formdata=None),
        others=others or [],
        sectors=_sectors(),
        accounts=accounts,
        confirm=ConfirmForm(),
    )


@require(can_manage_users, "an organisation's page")
def organisation(organisation_id: int) -> ResponseReturnValue:
    """GET the page; POST the description form (the identifier never changes)."""
    org = orgs.get_organisation(get_session(), organisation_id)
    form = OrganisationForm()
    if not form.is_submitted():
        return _page(org)
    form.slug.data = org.slug  # shown, never taken from the request
    if not form.validate():
        return _page(org, form=form), 422
    try:
        changed = orgs.update_organisation(
            get_session(),
            current_actor(),
            org,
            name=form.name.data,
            name_ar=form.name_ar.data,
            kind=form.kind.data,
            sector=form.sector.data,
            contact_emails=form.addresses(),
            phone=form.phone.data,
            clock=context().clock,
        )
    except ValidationFailed as exc:
        unit_of_work().rollback()
        others = show_errors(form, exc)
        org = orgs.get_organisation(get_session(), organisation_id)
        return _page(org, form=form, others=others), 422
    unit_of_work().commit()
    if changed:
        flash(_("The organisation %(name)s has been changed.", name=_local_name(org)), "success")
    else:
        flash(_("Nothing to change."), "info")
    return redirect(url_for("auth.organisation", organisation_id=org.id))


@require(can_manage_users, "registering an asset")
def add_asset(organisation_id: int) -> ResponseReturnValue:
    org = orgs.get_organisation(get_session(), organisation_id)
    form = AssetForm()
    if not form.validate_on_submit():
        return _page(org, asset_form=form), 422
    try:
        asset = orgs.add_asset(
            get_session(),
            current_actor(),
            org,
            kind=form.kind.data,
            value=form.value.data,
            note=form.note.data,
            clock=context().clock,
        )
    except (ValidationFailed, Conflict) as exc:
        unit_of_work().rollback()
        others = show_errors(form, exc)
        org = orgs.get_organisation(get_session(), organisation_id)
        return _page(org, asset_form=form, others=others), 422
    unit_of_work().commit()
    flash(
        _("%(value)s is registered to %(name)s.", value=asset.value, name=_local_name(org)),
        "success",
    )
    return redirect(url_for("auth.organisation", organisation_id=org.id) + "#assets")


@require(can_manage_users, "unregistering an asset")
def remove_asset(organisation_id: int, asset_id: int) -> ResponseReturnValue:
    db = get_session()
    org = orgs.get_organisation(db, organisation_id)
    asset = orgs.remove_asset(db, current_actor(), org, asset_id, clock=context().clock)
    value, name = asset.value, _local_name(org)  # read before the commit: the row is gone then
    unit_of_work().commit()
    flash(_("%(value)s is no longer registered to %(name)s.", value=value, name=name), "success")
    return redirect(url_for("auth.organisation", organisation_id=org.id) + "#assets")
