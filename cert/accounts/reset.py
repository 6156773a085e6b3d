"""Public pages of the links to set a password (:mod:`core.auth.resets`).

``/password/forgot``: "forgot my password" from the sign-in page; the answer is the same whether
an account has the address or not. ``/password/reset/<token>``: the page of a link, e-mailed by
:mod:`core.auth.resets` (an invitation or a reset); unknown, expired, used and malformed links
get the same page. Both are rate-limited per client address like the sign-in form; neither
answer may be cached (the token is in the address).
"""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cert.accounts.admin_forms import ForgotForm, ResetForm, show_errors
from cert.accounts.admin_users import link_settings
from core.auth import mfa, resets
from core.errors import ValidationFailed
from core.web import context, get_session, unit_of_work


def _private(body: str, status: int = 200) -> Response:
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def forgot() -> ResponseReturnValue:
    """GET the form, POST an address: the same page follows, whatever the address."""
    form = ForgotForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _private(render_template("auth/password_forgot.html", form=form, sent=False), status)
    resets.request_link(
        get_session(),
        form.email.data,
        ip=request.remote_addr,
        settings=link_settings(),
        clock=context().clock,
    )
    unit_of_work().commit()  # the request is audited, whether a link was sent or not
    return _private(render_template("auth/password_forgot.html", form=None, sent=True))


def reset(token: str) -> ResponseReturnValue:
    """GET the form while the link works; POST the new password twice."""
    link = resets.find_link(get_session(), token, clock=context().clock)
    if link is None:
        return _private(render_template("auth/password_reset.html", form=None), 404)
    form = ResetForm()
    invite = link.purpose == resets.INVITE
    asks_code = resets.asks_code(link)
    page = {"form": form, "email": link.user.email, "invite": invite, "asks_code": asks_code}
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _private(render_template("auth/password_reset.html", **page), status)
    try:
        resets.use_link(
            get_session(),
            token,
            form.new_password.data,
            ip=request.remote_addr,
            clock=context().clock,
            code=form.code.data if asks_code else None,
            seal=mfa.sealer(context().settings.secret_key),
        )
    except resets.InvalidLink:  # used by another request meanwhile
        unit_of_work().rollback()
        return _private(render_template("auth/password_reset.html", form=None), 404)
    except resets.CodeRefused as exc:
        unit_of_work().commit()  # the wrong code is audited and counted; nothing else changed
        show_errors(form, exc)
        return _private(render_template("auth/password_reset.html", **page), 422)
    except ValidationFailed as exc:
        unit_of_work().rollback()
        show_errors(form, exc)
        return _private(render_template("auth/password_reset.html", **page), 422)
    unit_of_work().commit()
    flash(_("Your password has been set. Sign in with it."), "success")
    response = redirect(url_for("auth.login"))
    response.headers["Cache-Control"] = "no-store"
    return response
