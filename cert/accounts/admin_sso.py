"""The administrator's button on a user's page that removes the account's link to the identity
provider (single sign-on): POST with the CSRF token; the same service as
``cert users sso-unlink``."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from cert.accounts.admin_users import find_user
from core.auth import sso
from core.identity.authz import can_manage_users
from core.web import context, get_session, unit_of_work
from core.web.auth import current_actor, require


@require(can_manage_users, "unlinking a user from the identity provider")
def sso_unlink(user_id: int) -> ResponseReturnValue:
    account = find_user(user_id)
    if sso.unlink(get_session(), current_actor(), account, clock=context().clock):
        unit_of_work().commit()
        flash(
            _(
                "The account of %(email)s is no longer linked to the identity provider: its next "
                "sign-in there links it again by e-mail address.",
                email=account.email,
            ),
            "success",
        )
    return redirect(url_for("auth.user", user_id=user_id))
