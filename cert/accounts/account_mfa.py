"""The account page's two-factor forms: a new set of recovery codes and turning two-factor
sign-in off (:mod:`core.auth.mfa_admin`); each asks a current code. A wrong code is counted and
audited (committed), and the page comes back naming the ``code`` field."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from cert.accounts.account import _me, _page
from cert.accounts.mfa_forms import DisableSecondFactorForm, RecoveryCodesForm
from core.auth import mfa, mfa_admin
from core.errors import ValidationFailed
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, login_required


def _refused(form: RecoveryCodesForm | DisableSecondFactorForm, exc: ValidationFailed) -> None:
    unit_of_work().commit()  # a wrong code is counted and audited; nothing else was written
    for reason in exc.fields.values():
        form.code.errors.append(_(reason))


@login_required
def recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes, shown once on this answer (which no cache may keep)."""
    user, form = _me(), RecoveryCodesForm()
    if not form.validate_on_submit():
        return _page(user, codes_form=form), 422
    seal = mfa.sealer(context().settings.secret_key)
    try:
        codes = mfa_admin.new_recovery_codes(
            get_session(), current_actor(), user, form.code.data, seal=seal, clock=context().clock
        )
    except ValidationFailed as exc:
        _refused(form, exc)
        return _page(user, codes_form=form), 422
    unit_of_work().commit()
    page = render_template(
        "auth/recovery_codes.html", codes=codes, continue_url=url_for("auth.account")
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@login_required
def disable_second_factor() -> ResponseReturnValue:
    """Turn two-factor sign-in off, when the role does not require it."""
    user, form = _me(), DisableSecondFactorForm()
    if not form.validate_on_submit():
        return _page(user, disable_form=form), 422
    try:
        mfa_admin.disable_own_second_factor(
            get_session(),
            current_actor(),
            user,
            form.code.data,
            roles=context().settings.mfa_roles,
            seal=mfa.sealer(context().settings.secret_key),
            clock=context().clock,
        )
    except ValidationFailed as exc:
        _refused(form, exc)
        return _page(user, disable_form=form), 422
    unit_of_work().commit()
    flash(_("Two-factor sign-in is turned off: your password alone now signs you in."), "success")
    return redirect(url_for("auth.account"))
