"""Buttons of a user's page (admins only, POST with the CSRF token): deactivate and activate the
account, e-mail a link to set the password, reset the second factor, revoke an API token. Each
calls the service the CLI calls and comes back to the page with what happened, or why nothing
did."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from cert.accounts.admin_users import find_user, link_settings
from core.auth import mfa_admin, resets
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.errors import NotFound, ValidationFailed
from core.identity.authz import can_manage_users
from core.identity.models import User
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, require, safe_next


def _back(user_id: int) -> ResponseReturnValue:
    """To the page the button was on (the user's page, or the token list)."""
    default = url_for("auth.user", user_id=user_id)
    return redirect(safe_next(request.form.get("next"), default))


def _refused(exc: ValidationFailed) -> None:
    unit_of_work().rollback()
    for reason in exc.fields.values():
        flash(_(reason), "danger")


def _set_active(user_id: int, active: bool) -> ResponseReturnValue:
    account = find_user(user_id)
    try:
        accounts.set_active(get_session(), current_actor(), account, active, clock=context().clock)
    except ValidationFailed as exc:
        _refused(exc)
        return _back(user_id)
    unit_of_work().commit()
    if active:
        flash(_("The account of %(email)s is active again.", email=account.email), "success")
    else:
        flash(
            _(
                "The account of %(email)s has been deactivated: its sessions have ended and its "
                "API tokens no longer work.",
                email=account.email,
            ),
            "success",
        )
    return _back(user_id)


@require(can_manage_users, "deactivating a user")
def deactivate(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, False)


@require(can_manage_users, "activating a user")
def activate(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, True)


@require(can_manage_users, "sending a link to set a password")
def send_link(user_id: int) -> ResponseReturnValue:
    account = find_user(user_id)
    try:
        link = resets.send_link(
            get_session(),
            current_actor(),
            account,
            settings=link_settings(),
            clock=context().clock,
        )
    except ValidationFailed as exc:
        _refused(exc)
        return _back(user_id)
    unit_of_work().commit()
    flash(
        _(
            "A link to set the password has been e-mailed to %(email)s; it works once, for "
            "%(hours)s hours. Earlier links no longer work.",
            email=account.email,
            hours=link_settings().hours,
        ),
        "success",
    )
    return _back(link.user_id)


def _isolated(account: User) -> str:
    """The address as a unit in a sentence of either direction (Unicode first-strong isolate)."""
    return f"\u2068{account.email}\u2069"


@require(can_manage_users, "resetting a user's second factor")
def reset_user_mfa(user_id: int) -> ResponseReturnValue:
    """Forget the user's second factor, end their sessions, e-mail them."""
    account = find_user(user_id)
    try:
        outcome = mfa_admin.reset_second_factor(
            get_session(),
            current_actor(),
            account,
            settings=mfa_admin.NoticeSettings.of(context().settings),
            clock=context().clock,
        )
    except ValidationFailed as exc:
        _refused(exc)
        return _back(user_id)
    unit_of_work().commit()
    if not outcome.had:
        flash(_("%(email)s has no two-factor sign-in: nothing to reset.", email=_isolated(account)))
        return _back(user_id)
    flash(
        _(
            "The two-factor sign-in of %(email)s has been reset: their sessions have ended "
            "(%(count)s) and they have been told by e-mail.",
            email=_isolated(account),
            count=outcome.sessions_ended,
        ),
        "success",
    )
    return _back(user_id)


@require(can_manage_users, "revoking a user's token")
def revoke_token(user_id: int, token_id: int) -> ResponseReturnValue:
    """A token of this user (404 for another user's: the URL names both)."""
    account, db, actor = find_user(user_id), get_session(), current_actor()
    token = api_tokens.access_token(db, actor, token_id)
    if token.user_id != account.id:
        raise NotFound("token not found")
    api_tokens.revoke_token(db, actor, token, clock=context().clock)
    unit_of_work().commit()
    flash(
        _(
            "The token %(prefix)s… of %(email)s has been revoked.",
            prefix=token.prefix,
            email=account.email,
        ),
        "success",
    )
    return _back(user_id)
