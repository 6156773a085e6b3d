"""Administrators acting on an account from the user list: set a new password (the password
policy applies, every session of the user ends) and end every session of a user."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from cert.accounts.forms import AdminPasswordForm
from core.auth import services as accounts
from core.errors import NotFound, ValidationFailed
from core.identity.authz import can_manage_users
from core.identity.models import User
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, current_web_session, require


def _user(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


@require(can_manage_users, "setting a user's password")
def set_password(user_id: int) -> ResponseReturnValue:
    """GET the form, POST it: the new password twice."""
    user, form, db = _user(user_id), AdminPasswordForm(), get_session()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("auth/user_password.html", user=user, form=form), status
    try:
        actor = current_actor()
        accounts.set_password(
            db,
            actor,
            user,
            form.new_password.data,
            clock=context().clock,
            field="new_password",
            keep=current_web_session() if actor.user_id == user.id else None,
        )
    except ValidationFailed as exc:
        unit_of_work().rollback()
        for name, reason in exc.fields.items():
            getattr(form, name).errors.append(_(reason))
        return render_template("auth/user_password.html", user=user, form=form), 422
    unit_of_work().commit()
    flash(
        _(
            "The password of %(email)s has been changed; their sessions have been ended.",
            email=user.email,
        ),
        "success",
    )
    return redirect(url_for("auth.users"))


@require(can_manage_users, "ending a user's sessions")
def end_sessions(user_id: int) -> ResponseReturnValue:
    user, db = _user(user_id), get_session()
    ended = accounts.end_all_sessions(db, current_actor(), user, clock=context().clock)
    unit_of_work().commit()
    flash(_("Sessions of %(email)s ended: %(count)s.", email=user.email, count=ended), "success")
    return redirect(url_for("auth.users"))
