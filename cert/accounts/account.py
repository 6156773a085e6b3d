"""The signed-in user's own page: profile, language preference, password, two-factor sign-in
(its forms: :mod:`cert.accounts.account_mfa`), open sessions and API tokens."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh

from cert.accounts.forms import ConfirmForm, LocaleForm, PasswordForm, TokenForm
from cert.accounts.mfa_forms import DisableSecondFactorForm, RecoveryCodesForm
from core.auth import mfa_admin, sessions
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from core.identity.models import User, UserSession
from core.web import context, error_response, get_session, unit_of_work
from core.web.auth import (
    current_account,
    current_actor,
    current_web_session,
    log_out,
    login_required,
    session_policy,
)


def _me() -> User:
    user = current_account()
    if user is None:  # login_required ran first
        raise AuthenticationFailed("authentication required")
    return user


def _this_session() -> UserSession:
    row = current_web_session()
    if row is None:  # login_required ran first
        raise AuthenticationFailed("authentication required")
    return row


def _page(
    user: User,
    *,
    locale_form: LocaleForm | None = None,
    token_form: TokenForm | None = None,
    password_form: PasswordForm | None = None,
    codes_form: RecoveryCodesForm | None = None,
    disable_form: DisableSecondFactorForm | None = None,
) -> str:
    db = get_session()
    return render_template(
        "auth/account.html",
        user=user,
        tokens=api_tokens.list_tokens(db, user),
        web_sessions=sessions.open_sessions(
            db, user, policy=session_policy(), clock=context().clock
        ),
        this_session=_this_session(),
        locale_form=locale_form or LocaleForm(locale=user.locale),
        token_form=token_form or TokenForm(),
        may_issue_tokens=_may_issue_tokens(user),
        password_form=password_form or PasswordForm(formdata=None),
        confirm=ConfirmForm(),
        mfa=mfa_admin.status(db, user, roles=context().settings.mfa_roles),
        mfa_events=mfa_admin.mfa_events(db, user),
        codes_form=codes_form or RecoveryCodesForm(formdata=None),
        disable_form=disable_form or DisableSecondFactorForm(formdata=None),
        enrol_url=url_for("auth.enrol_second_factor"),
    )


@login_required
def account() -> ResponseReturnValue:
    return _page(_me())


@login_required
def update_locale() -> ResponseReturnValue:
    """Save the language preference (audited); it replaces any ``?lang=`` choice."""
    user, form = _me(), LocaleForm()
    if not form.validate_on_submit():
        return _page(user, locale_form=form), 422
    accounts.set_locale(
        get_session(), current_actor(), user, form.locale.data, clock=context().clock
    )
    unit_of_work().commit()
    session.pop("lang", None)
    refresh()  # this very answer is already in the new language
    flash(_("Your language preference has been saved."), "success")
    return redirect(url_for("auth.account"))


def _may_issue_tokens(user: User) -> bool:
    """Whether this session may issue tokens (a second factor proven when the role needs one)."""
    try:
        api_tokens.require_proven_session(
            user, _this_session().auth_method, context().settings.mfa_roles
        )
    except PermissionDenied:
        return False
    return True


@login_required
def create_token() -> ResponseReturnValue:
    """The token is shown once, on this answer, which no cache may keep. A session signed in
    without the second factor that the user's role requires issues none (403)."""
    user, form = _me(), TokenForm()
    if not _may_issue_tokens(user):
        return error_response(
            403,
            PermissionDenied.code,
            "API tokens are issued to sessions signed in with a second factor",
            explanation=_(
                "Your role requires a second factor: sign out, then sign in again with the code "
                "of your authentication application before creating an API token."
            ),
        )
    if not form.validate_on_submit():
        return _page(user, token_form=form), 422
    token, secret = api_tokens.create_token(
        get_session(),
        current_actor(),
        user,
        label=form.label.data,
        scope=form.scope.data,
        clock=context().clock,
    )
    unit_of_work().commit()
    response = make_response(render_template("auth/token_created.html", token=token, secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    db, actor = get_session(), current_actor()
    token = api_tokens.access_token(db, actor, token_id)
    api_tokens.revoke_token(db, actor, token, clock=context().clock)
    unit_of_work().commit()
    flash(_("The token %(prefix)s… has been revoked.", prefix=token.prefix), "success")
    return redirect(url_for("auth.account"))


@login_required
def change_password() -> ResponseReturnValue:
    """Current password, then the new one twice; the other sessions end, this one stays."""
    user, form, db = _me(), PasswordForm(), get_session()
    if not form.validate_on_submit():
        return _page(user, password_form=form), 422
    try:
        accounts.change_own_password(
            db,
            current_actor(),
            user,
            current=form.current_password.data,
            new=form.new_password.data,
            keep=_this_session(),
            clock=context().clock,
        )
    except ValidationFailed as exc:
        if "current_password" in exc.fields:
            unit_of_work().commit()  # the wrong current password is audited
        else:
            unit_of_work().rollback()
        for name, reason in exc.fields.items():
            getattr(form, name).errors.append(_(reason))
        return _page(user, password_form=form), 422
    unit_of_work().commit()  # this session's key is unchanged: only the other sessions' rows ended
    flash(
        _("Your password has been changed. Your other sessions have been ended."),
        "success",
    )
    return redirect(url_for("auth.account"))


@login_required
def end_session(session_id: int) -> ResponseReturnValue:
    """End one of the user's sessions (another device); ending this one signs out."""
    db, user = get_session(), _me()
    row = sessions.access_own_session(db, user, session_id)
    if row.id == _this_session().id:
        log_out()
        flash(_("You have been signed out."), "info")
        return redirect(url_for("auth.login"))
    sessions.end_session(
        db, current_actor(), row, reason=sessions.EndReason.ENDED_BY_USER, clock=context().clock
    )
    unit_of_work().commit()
    flash(_("The session has been ended."), "success")
    return redirect(url_for("auth.account"))


@login_required
def end_other_sessions() -> ResponseReturnValue:
    db, user = get_session(), _me()
    sessions.end_user_sessions(
        db,
        current_actor(),
        user,
        reason=sessions.EndReason.ENDED_BY_USER,
        clock=context().clock,
        keep=_this_session(),
    )
    unit_of_work().commit()
    flash(_("Your other sessions have been ended."), "success")
    return redirect(url_for("auth.account"))
