"""Administrators managing one account (admins only): create it (a link e-mailed to choose the
password, or a password set now), its page (profile, role, organisation and language; status;
API tokens), set its password and end its sessions. Activation, links and token revocation are
:mod:`cert.accounts.admin_user_actions`. Every change goes through :mod:`core.auth.services`,
as ``cert users …`` does, and is audited there."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from cert.accounts.admin_forms import UserEditForm, UserForm, show_errors
from cert.accounts.forms import AdminPasswordForm, ConfirmForm
from core.auth import centres, mfa_admin, resets
from core.auth import organisations as orgs
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import RTL_LOCALES
from core.identity.authz import can_manage_users
from core.identity.models import Role, User
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, current_web_session, require


def find_user(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def _offer_organisations(form: UserEditForm) -> None:
    arabic = str(get_locale()) in RTL_LOCALES
    form.offer(orgs.list_organisations(get_session()), arabic=arabic)


def _offer_centres(form: UserForm) -> None:
    """The centres a new CERT account may join, the national one first (and by default)."""
    locale = "ar" if str(get_locale()) in RTL_LOCALES else "fr"
    found = centres.list_centres(get_session())
    form.centre.choices = [(c.id, f"{c.display_name(locale)} ({c.slug})") for c in found]
    if form.centre.data is None and found:
        form.centre.data = found[0].id


def link_settings() -> resets.LinkSettings:
    return resets.LinkSettings.of(context().settings)


@require(can_manage_users, "creating a user")
def new_user() -> ResponseReturnValue:
    """GET the form, POST it; the account is created and, unless a password was set, the user
    is e-mailed a link to choose one."""
    form = UserForm()
    _offer_organisations(form)
    _offer_centres(form)
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/user_new.html", form=form, others=[]), status
    db, actor = get_session(), current_actor()
    set_now = form.password_mode.data == "set"
    staff = form.role.data != Role.REPORTER
    try:
        user = accounts.create_user(
            db,
            actor,
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            organisation=orgs.get_organisation(db, form.organisation.data),
            password=form.password.data if set_now else None,
            locale=form.locale.data,
            clock=context().clock,
            centre=centres.get_centre(db, form.centre.data) if staff else None,
        )
        if not set_now:
            resets.send_link(db, actor, user, settings=link_settings(), clock=context().clock)
    except (ValidationFailed, Conflict) as exc:
        unit_of_work().rollback()
        others = show_errors(form, exc)
        return render_template("auth/user_new.html", form=form, others=others), 422
    unit_of_work().commit()
    if set_now:
        flash(_("The account of %(email)s has been created.", email=user.email), "success")
    else:
        flash(
            _(
                "The account of %(email)s has been created; a link to choose the password has "
                "been e-mailed to that address.",
                email=user.email,
            ),
            "success",
        )
    return redirect(url_for("auth.user", user_id=user.id))


def render_user(
    user: User, form: UserEditForm | None = None, others: list[str] | None = None
) -> str:
    """The page of one account; ``form`` when it comes back with errors."""
    if form is None:
        form = UserEditForm(
            formdata=None,
            name=user.name,
            role=user.role.value,
            organisation=user.organisation_id,
            locale=user.locale,
        )
    _offer_organisations(form)
    return render_template(
        "auth/user.html",
        user=user,
        form=form,
        others=others or [],
        tokens=api_tokens.list_tokens(get_session(), user),
        centres=centres.centres_of(get_session(), user.id),
        is_me=user.id == current_actor().user_id,
        confirm=ConfirmForm(),
        mfa=mfa_admin.status(get_session(), user, roles=context().settings.mfa_roles),
    )


@require(can_manage_users, "a user's page")
def user(user_id: int) -> ResponseReturnValue:
    """GET the page; POST the profile form (name, role, organisation, language)."""
    account = find_user(user_id)
    form = UserEditForm()
    if not form.is_submitted():
        return render_user(account)
    _offer_organisations(form)
    if not form.validate():
        return render_user(account, form), 422
    db = get_session()
    try:
        changed = accounts.update_user(
            db,
            current_actor(),
            account,
            name=form.name.data,
            role=form.role.data,
            organisation=orgs.get_organisation(db, form.organisation.data),
            locale=form.locale.data,
            clock=context().clock,
        )
    except ValidationFailed as exc:
        unit_of_work().rollback()
        others = show_errors(form, exc)
        return render_user(find_user(user_id), form, others), 422
    unit_of_work().commit()
    if changed:
        flash(_("The account of %(email)s has been changed.", email=account.email), "success")
    else:
        flash(_("Nothing to change."), "info")
    return redirect(url_for("auth.user", user_id=account.id))


@require(can_manage_users, "setting a user's password")
def set_password(user_id: int) -> ResponseReturnValue:
    """GET the form, POST it: the new password twice."""
    account, form, db = find_user(user_id), AdminPasswordForm(), get_session()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/user_password.html", user=account, form=form), status
    try:
        actor = current_actor()
        accounts.set_password(
            db,
            actor,
            account,
            form.new_password.data,
            clock=context().clock,
            field="new_password",
            keep=current_web_session() if actor.user_id == account.id else None,
        )
    except ValidationFailed as exc:
        unit_of_work().rollback()
        show_errors(form, exc)
        return render_template("auth/user_password.html", user=account, form=form), 422
    unit_of_work().commit()
    flash(
        _(
            "The password of %(email)s has been changed; their sessions have been ended.",
            email=account.email,
        ),
        "success",
    )
    return redirect(url_for("auth.user", user_id=account.id))


@require(can_manage_users, "ending a user's sessions")
def end_sessions(user_id: int) -> ResponseReturnValue:
    account, db = find_user(user_id), get_session()
    ended = accounts.end_all_sessions(db, current_actor(), account, clock=context().clock)
    unit_of_work().commit()
    flash(_("Sessions of %(email)s ended: %(count)s.", email=account.email, count=ended), "success")
    return redirect(url_for("auth.user", user_id=account.id))
