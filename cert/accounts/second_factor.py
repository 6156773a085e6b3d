"""The second factor of a sign-in (TOTP, RFC 6238) and the enrolment page.

``/login/two-factor``: after a right password (:mod:`cert.accounts.pending`), an enrolled user
types the code of their authenticator application, or one of their recovery codes; the session
starts only then (``user_sessions.auth_method`` says which). Wrong and replayed codes are
counted by the kernel's throttle (:mod:`core.auth.mfa`); once it runs, the pending sign-in is
dropped and the page says when to try again.

``/login/two-factor/enrol``: the QR code of a new secret, drawn on the server (segno, inline
SVG: no outside service sees the secret), and the secret as text; the current code turns the
second factor on and the ten recovery codes are shown once. A pending sign-in of a role that
must enrol (``CERT_MFA_REQUIRED_ROLES``) comes here and can open nothing else; a signed-in user
(a reporter) may come from the account page. Both POSTs are rate-limited like the password.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from cert.accounts import pending, signin
from cert.accounts.admin_forms import show_errors
from cert.accounts.forms import CodeForm, RecoveryCodeForm
from core.auth import mfa
from core.errors import AuthenticationFailed, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import User
from core.web import context, error_response, get_session, unit_of_work, wants_json
from core.web.auth import current_account, current_web_session, log_in
from core.web.times import local_time


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int = 200, **values: Any) -> Response:
    return _private(make_response(render_template(template, **values), status))


def _to_login() -> Response:
    flash(_("Sign in to see this page."), "info")
    return redirect(url_for("auth.login"))


def _seal() -> Any:
    return mfa.sealer(context().settings.secret_key)


def _writing() -> None:
    """Every code checked writes (a step used, a failure counted, audit): start as a writer."""
    unit_of_work().commit()
    unit_of_work().write()


# ---------------------------------------------------------------- the code, at sign-in
def second_factor() -> ResponseReturnValue:
    """GET the page; POST ``code`` (the application's) or ``recovery_code``."""
    if current_account() is not None:
        return redirect(url_for("home"))
    waiting = pending.load()
    if waiting is None:
        return _to_login()
    user = waiting.user
    if not user.mfa_enrolled:
        return redirect(url_for("auth.enrol_second_factor"))
    code_form, recovery_form = CodeForm(), RecoveryCodeForm()
    use_recovery = "recovery_code" in request.form
    form = recovery_form if use_recovery else code_form
    field = form.recovery_code if use_recovery else form.code
    page = {"code_form": code_form, "recovery_form": recovery_form, "use_recovery": use_recovery}
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _page("auth/second_factor.html", status, **page)
    _writing()
    try:
        method = mfa.check_code(
            get_session(),
            user,
            field.data,
            seal=_seal(),
            ip=request.remote_addr,
            clock=context().clock,
        )
    except mfa.MfaThrottled as exc:
        unit_of_work().commit()  # the refusal is audited
        return _paused(exc.until)
    except AuthenticationFailed:
        unit_of_work().commit()  # the failure is audited and counted
        until = mfa.blocked_until(get_session(), user, clock=context().clock)
        if until is not None:  # this failure started a wait: no use trying on now
            return _paused(until)
        field.errors = [_("This code is not right, or was already used.")]
        return _page("auth/second_factor.html", 422, **page)
    return _complete(user, method, waiting.next_url)


def _paused(until: dt.datetime) -> Response:
    """The account's second factor waits: the pending sign-in is dropped; say until when."""
    pending.drop()
    message = _(
        "Too many wrong codes: two-factor sign-in to this account is paused. "
        "Sign in again after %(time)s.",
        time=local_time(until),
    )
    flash(message, "error")
    return redirect(url_for("auth.login"))


def _complete(user: User, method: str, target: str, codes: list[str] | None = None) -> Response:
    """Start the session (the pending state goes with the old session's content)."""
    log_in(user, method=method)
    mfa.record_sign_in(
        get_session(), user, method=method, ip=request.remote_addr, clock=context().clock
    )
    unit_of_work().commit()
    if codes is not None:
        response = _page("auth/recovery_codes.html", codes=codes, continue_url=target)
    else:
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        if method == mfa.Method.RECOVERY:
            left = mfa.remaining_recovery_codes(get_session(), user)
            flash(
                _(
                    "You signed in with a recovery code. Recovery codes left: %(count)d.",
                    count=left,
                ),
                "warning",
            )
        response = _private(redirect(target))
    signin.remember_device(response, user)
    return response


# ---------------------------------------------------------------- enrolment
def enrol_second_factor() -> ResponseReturnValue:
    """GET the QR code and the secret; POST the current code."""
    account = current_account()
    waiting = None
    if account is not None:
        user, target = account, url_for("auth.account")
        if user.mfa_enrolled:
            flash(_("Two-factor sign-in is already on for your account."), "info")
            return redirect(target)
    else:
        waiting = pending.load()
        if waiting is None:
            return _to_login()
        user, target = waiting.user, waiting.next_url
        if user.mfa_enrolled:
            return redirect(url_for("auth.second_factor"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        _writing()
        actor = Actor.for_user(user, ip=request.remote_addr)
        try:
            codes = mfa.confirm_enrolment(
                get_session(), actor, user, form.code.data, seal=_seal(), clock=context().clock
            )
        except ValidationFailed as exc:
            unit_of_work().rollback()
            show_errors(form, exc)
            status = 422
        else:
            if waiting is not None:
                return _complete(user, mfa.Method.TOTP, target, codes)
            unit_of_work().commit()
            return _page("auth/recovery_codes.html", codes=codes, continue_url=target)
    elif form.is_submitted():
        status = 422
    _writing()
    secret = mfa.start_enrolment(get_session(), user, seal=_seal())
    unit_of_work().commit()
    issuer = context().settings.cert_name
    uri = mfa.provisioning_uri(secret, account=user.email, issuer=issuer)
    values = {
        "form": form,
        "qr": _qr_svg(uri),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "account_name": user.email,
        "issuer": issuer,
        "signed_in": waiting is None,
    }
    return _page("auth/enrol_second_factor.html", status, **values)


def _qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG (no script, no style attribute: the CSP lets it show)."""
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=_("QR code to scan"))
    return Markup(svg)  # noqa: S704 (segno's own markup, of our own URI)


# ---------------------------------------------------------------- roles that must enrol
EXEMPT = {
    "auth.enrol_second_factor",
    "auth.logout",
    "static",
    "auth.login",
    "auth.second_factor",
    "auth.sso_login",
    "auth.sso_callback",
}


def enforce_enrolment() -> ResponseReturnValue | None:
    """A web session of a user whose role must enrol but who has not (a session older than the
    requirement, or a role changed since): nothing opens but the enrolment page. A session
    opened through the identity provider is exempt: the provider judges the second factor."""
    if g.get("api_user") is not None or request.endpoint in EXEMPT:
        return None
    account = current_account()
    if account is None or not mfa.must_enrol(account, context().settings.mfa_roles):
        return None
    row = current_web_session()
    if row is not None and row.auth_method == mfa.Method.SSO:
        return None
    if wants_json():
        return error_response(403, "forbidden", "two-factor sign-in must be set up first")
    return redirect(url_for("auth.enrol_second_factor"))
