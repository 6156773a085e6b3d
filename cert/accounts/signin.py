"""Signing in and out.

After a right password, an account enrolled in two-factor sign-in, or whose role must enrol
(``CERT_MFA_REQUIRED_ROLES``), is not signed in yet: the sign-in waits
(:mod:`cert.accounts.pending`) for a code or an enrolment (:mod:`cert.accounts.second_factor`),
which start the session.

A successful sign-in gives the browser a device cookie (:mod:`core.auth.devices`): its later
attempts for that account are spared the account's wait, so that an attacker failing on purpose
from elsewhere cannot lock the owner out. The cookie is sent to the sign-in page only; signing
out keeps it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cert.accounts import pending, sso
from cert.accounts.forms import LoginForm
from core.auth import devices, mfa
from core.auth import services as accounts
from core.auth.mfa import Method
from core.errors import AuthenticationFailed
from core.identity.models import User
from core.web import context, get_session, unit_of_work
from core.web.auth import current_account, current_web_session, log_in, log_out, safe_next


def login() -> ResponseReturnValue:
    """The same answer for an unknown address, a wrong password and a disabled account."""
    home = url_for("home")
    target = safe_next(request.args.get("next"), home)
    if current_account() is not None:
        return redirect(target)
    waiting = pending.load()
    if waiting is not None and request.method == "GET":  # the second factor is still awaited
        if target != home:
            pending.retarget(target)
        return redirect(next_step(waiting.user))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        pending.drop()
        user = _check_credentials(form.email.data, form.password.data)
        if user is not None and (user.mfa_enrolled or mfa.must_enrol(user, _mfa_roles())):
            pending.begin(user, target)
            return redirect(next_step(user))
        if user is not None:
            log_in(user, method=mfa.Method.PASSWORD)
            unit_of_work().commit()
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            response = redirect(target)
            remember_device(response, user)
            return response
        failed = True
    next_arg = target if target != home else None
    return render_template(
        "auth/login.html",
        form=form,
        failed=failed,
        next=next_arg,
        sso_provider=sso.provider_name(),
    )


def _mfa_roles() -> frozenset[str]:
    roles: frozenset[str] = context().settings.mfa_roles
    return roles


def next_step(user: User) -> str:
    """The page of the second factor a pending sign-in of ``user`` awaits."""
    enrolled = user.mfa_enrolled
    return url_for("auth.second_factor" if enrolled else "auth.enrol_second_factor")


def _check_credentials(email: str, password: str) -> User | None:
    session = get_session()
    # Every attempt writes (audit, counts), so it starts as a writer: on SQLite racing attempts
    # then wait their turn instead of failing with "database is locked".
    unit_of_work().commit()  # ends a read of the session loader, if any
    unit_of_work().write()
    try:
        user = accounts.authenticate(
            session,
            email,
            password,
            ip=request.remote_addr,
            clock=context().clock,
            devices=_device_cookies(),
            device_cookie=request.cookies.get(devices.COOKIE_NAME),
            mfa_roles=_mfa_roles(),
        )
    except AuthenticationFailed:
        user = None
    unit_of_work().commit()  # the sign-in, or the failed attempt, is audited either way
    return user


def _device_cookies() -> devices.DeviceCookies:
    return devices.DeviceCookies(context().settings.secret_key)


def remember_device(response: Response, user: User) -> None:
    """A new device cookie (a new nonce) for this browser, after each successful sign-in."""
    response.set_cookie(
        devices.COOKIE_NAME,
        _device_cookies().issue(user, now=context().clock.now()),
        max_age=int(devices.LIFETIME.total_seconds()),
        path=url_for("auth.login"),
        secure=context().settings.session_cookie_secure,
        httponly=True,
        samesite="Lax",
    )


def logout() -> ResponseReturnValue:
    """POST only, with the CSRF token (checked for every form by ``core.web``); also cancels
    a sign-in waiting for its second factor. A session opened through the identity provider
    ends there too when the provider offers it."""
    pending.drop()
    provider_logout = None
    if current_account() is not None:
        row = current_web_session()
        if row is not None and row.auth_method == Method.SSO:
            provider_logout = sso.logout_url(session.get(sso.ID_TOKEN_KEY))
        log_out()  # ends the session on the server: a copy of the cookie no longer works
        flash(_("You have been signed out."), "info")
    return redirect(provider_logout or url_for("auth.login"))
