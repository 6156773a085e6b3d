"""Administrators managing organisations (admins only): create one, its page (French and
Arabic names, kind, sector, contact addresses, telephone; its accounts), and its registered
domains and IP ranges (add, remove). Every change goes through :mod:`core.auth.organisations`,
as ``cert orgs …`` does, and is audited there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from cert.accounts.admin_forms import AssetForm, OrganisationForm, apply_change, show_errors
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


def _in_use(column: Any) -> list[str]:
    """The sectors (regions) already in use, offered while typing one (the same word groups
    them, and centres answer for them by that word)."""
    query = select(column).where(column.is_not(None)).distinct()
    return sorted(s for s in get_session().scalars(query) if s)


def _sectors() -> list[str]:
    return _in_use(Organisation.sector)


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
            region=form.region.data,
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
        "auth/organisation_new.html",
        form=form,
        others=others or [],
        sectors=_sectors(),
        regions=_in_use(Organisation.region),
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
            region=org.region,
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
        regions=_in_use(Organisation.region),
        accounts=accounts,
        confirm=ConfirmForm(),
    )


Change = Callable[[Organisation], tuple[str, str]]  # the service call; the message to flash


def _apply(
    organisation_id: int,
    change: Change,
    *,
    form: OrganisationForm | AssetForm | None = None,
    anchor: str = "",
) -> ResponseReturnValue:
    """One change from an organisation's page, through :mod:`core.auth.organisations`: committed,
    its message flashed and back to the page (at ``anchor``); or, when the service refuses it,
    nothing written and the page again with the errors next to ``form``'s fields (422)."""

    def again(org: Organisation, others: list[str]) -> ResponseReturnValue:
        if isinstance(form, AssetForm):
            return _page(org, asset_form=form, others=others), 422
        return _page(org, form=form, others=others), 422

    return apply_change(
        lambda: orgs.get_organisation(get_session(), organisation_id),
        change,
        form=form,
        again=again,
        done=url_for("auth.organisation", organisation_id=organisation_id) + anchor,
    )


@require(can_manage_users, "an organisation's page")
def organisation(organisation_id: int) -> ResponseReturnValue:
    """GET the page; POST the description form (the identifier never changes)."""
    form = OrganisationForm()
    if not form.is_submitted():
        return _page(orgs.get_organisation(get_session(), organisation_id))
    org = orgs.get_organisation(get_session(), organisation_id)
    form.slug.data = org.slug  # shown, never taken from the request
    if not form.validate():
        return _page(org, form=form), 422

    def describe(org: Organisation) -> tuple[str, str]:
        changed = orgs.update_organisation(
            get_session(),
            current_actor(),
            org,
            name=form.name.data,
            name_ar=form.name_ar.data,
            kind=form.kind.data,
            sector=form.sector.data,
            region=form.region.data,
            contact_emails=form.addresses(),
            phone=form.phone.data,
            clock=context().clock,
        )
        if not changed:
            return _("Nothing to change."), "info"
        return _("The organisation %(name)s has been changed.", name=_local_name(org)), "success"

    return _apply(organisation_id, describe, form=form)


@require(can_manage_users, "registering an asset")
def add_asset(organisation_id: int) -> ResponseReturnValue:
    """Register a domain name or an IP range (the form's ``kind``)."""
    form = AssetForm()
    if not form.validate_on_submit():
        return _page(orgs.get_organisation(get_session(), organisation_id), asset_form=form), 422

    def register(org: Organisation) -> tuple[str, str]:
        asset = orgs.add_asset(
            get_session(),
            current_actor(),
            org,
            kind=form.kind.data,
            value=form.value.data,
            note=form.note.data,
            clock=context().clock,
        )
        name = _local_name(org)
        return _("%(value)s is registered to %(name)s.", value=asset.value, name=name), "success"

    return _apply(organisation_id, register, form=form, anchor="#assets")


@require(can_manage_users, "unregistering an asset")
def remove_asset(organisation_id: int, asset_id: int) -> ResponseReturnValue:
    """Unregister a domain name or an IP range (``NotFound`` for another organisation's)."""

    def unregister(org: Organisation) -> tuple[str, str]:
        asset = orgs.remove_asset(
            get_session(), current_actor(), org, asset_id, clock=context().clock
        )
        # read before the commit: the row is gone then
        message = _(
            "%(value)s is no longer registered to %(name)s.",
            value=asset.value,
            name=_local_name(org),
        )
        return message, "success"

    return _apply(organisation_id, unregister, anchor="#assets")
