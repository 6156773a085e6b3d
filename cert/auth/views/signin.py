"""Signing in and out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from cert.auth import services as accounts
from cert.auth.decorators import current_account, log_in, log_out, safe_next
from cert.auth.models import User
from cert.auth.views.forms import LoginForm
from cert.errors import AuthenticationFailed
from cert.web import context, get_session


def login() -> ResponseReturnValue:
    """The same answer for an unknown address, a wrong password and a disabled account."""
    home = url_for("home")
    target = safe_next(request.args.get("next"), home)
    if current_account() is not None:
        return redirect(target)
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = _check_credentials(form.email.data, form.password.data)
        if user is not None:
            log_in(user)
            get_session().commit()
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(target)
        failed = True
    next_arg = target if target != home else None
    return render_template("auth/login.html", form=form, failed=failed, next=next_arg)


def _check_credentials(email: str, password: str) -> User | None:
    session = get_session()
    try:
        user = accounts.authenticate(
            session, email, password, ip=request.remote_addr, clock=context().clock
        )
    except AuthenticationFailed:
        user = None
    session.commit()  # the sign-in, or the failed attempt, is audited either way
    return user


def logout() -> ResponseReturnValue:
    """POST only, with the CSRF token (checked for every form by ``cert.web``)."""
    if current_account() is not None:
        log_out()  # ends the session on the server: a copy of the cookie no longer works
        flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.login"))
