"""The signed-in user's own page: profile, language preference and API tokens."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh

from cert.auth import services as accounts
from cert.auth.decorators import current_account, current_actor, login_required
from cert.auth.models import User
from cert.auth.views.forms import ConfirmForm, LocaleForm, TokenForm
from cert.errors import AuthenticationFailed
from cert.web import context, get_session


def _me() -> User:
    user = current_account()
    if user is None:  # login_required ran first
        raise AuthenticationFailed("authentication required")
    return user


def _page(
    user: User, *, locale_form: LocaleForm | None = None, token_form: TokenForm | None = None
) -> str:
    return render_template(
        "auth/account.html",
        user=user,
        tokens=accounts.list_tokens(get_session(), user),
        locale_form=locale_form or LocaleForm(locale=user.locale),
        token_form=token_form or TokenForm(),
        confirm=ConfirmForm(),
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
    get_session().commit()
    session.pop("lang", None)
    refresh()  # this very answer is already in the new language
    flash(_("Your language preference has been saved."), "success")
    return redirect(url_for("auth.account"))


@login_required
def create_token() -> ResponseReturnValue:
    """The token is shown once, on this answer, which no cache may keep."""
    user, form = _me(), TokenForm()
    if not form.validate_on_submit():
        return _page(user, token_form=form), 422
    token, secret = accounts.create_token(
        get_session(), current_actor(), user, label=form.label.data, clock=context().clock
    )
    get_session().commit()
    response = make_response(render_template("auth/token_created.html", token=token, secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    db, actor = get_session(), current_actor()
    token = accounts.access_token(db, actor, token_id)
    accounts.revoke_token(db, actor, token, clock=context().clock)
    db.commit()
    flash(_("The token %(prefix)s… has been revoked.", prefix=token.prefix), "success")
    return redirect(url_for("auth.account"))
