"""Accounts pages (composition root): sign-in, password links, own account and tokens,
administration of users, organisations, vigilance centres and API tokens.

One blueprint, ``auth``; the routing table is below, the views live in topic modules.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from cert.accounts import (
    account,
    account_mfa,
    admin,
    admin_centres,
    admin_orgs,
    admin_sso,
    admin_user_actions,
    admin_users,
    reset,
    second_factor,
    signin,
    sso,
)
from core.auth.resets import RESET_PATH
from core.auth.sso_config import SsoSettings
from core.web import rate_limit
from core.web.auth import login_required

bp = Blueprint("auth", __name__)
bp.add_url_rule("/login", view_func=signin.login, methods=["GET", "POST"])
bp.add_url_rule("/login/two-factor", view_func=second_factor.second_factor, methods=["GET", "POST"])
bp.add_url_rule(
    "/login/two-factor/enrol",
    view_func=second_factor.enrol_second_factor,
    methods=["GET", "POST"],
)
bp.add_url_rule("/logout", view_func=signin.logout, methods=["POST"])
bp.add_url_rule("/login/sso", view_func=sso.sso_login)
bp.add_url_rule("/login/sso/callback", view_func=sso.sso_callback)
bp.add_url_rule(
    "/admin/users/<int:user_id>/sso-unlink", view_func=admin_sso.sso_unlink, methods=["POST"]
)
bp.add_url_rule("/password/forgot", view_func=reset.forgot, methods=["GET", "POST"])
bp.add_url_rule(RESET_PATH + "<token>", view_func=reset.reset, methods=["GET", "POST"])
bp.add_url_rule("/account", view_func=account.account)
bp.add_url_rule("/account/locale", view_func=account.update_locale, methods=["POST"])
bp.add_url_rule("/account/tokens", view_func=account.create_token, methods=["POST"])
bp.add_url_rule("/account/password", view_func=account.change_password, methods=["POST"])
bp.add_url_rule(
    "/account/sessions/<int:session_id>/end", view_func=account.end_session, methods=["POST"]
)
bp.add_url_rule(
    "/account/sessions/end-others", view_func=account.end_other_sessions, methods=["POST"]
)
bp.add_url_rule(
    "/account/tokens/<int:token_id>/revoke", view_func=account.revoke_token, methods=["POST"]
)
bp.add_url_rule(
    "/account/two-factor/recovery-codes", view_func=account_mfa.recovery_codes, methods=["POST"]
)
bp.add_url_rule(
    "/account/two-factor/disable",
    view_func=account_mfa.disable_second_factor,
    methods=["POST"],
)
bp.add_url_rule("/admin/audit", view_func=admin.audit_log)
bp.add_url_rule("/admin/tokens", view_func=admin.api_tokens)
# users
bp.add_url_rule("/admin/users", view_func=admin.users)
bp.add_url_rule("/admin/users/new", view_func=admin_users.new_user, methods=["GET", "POST"])
bp.add_url_rule("/admin/users/<int:user_id>", view_func=admin_users.user, methods=["GET", "POST"])
bp.add_url_rule(
    "/admin/users/<int:user_id>/password",
    view_func=admin_users.set_password,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/admin/users/<int:user_id>/end-sessions",
    view_func=admin_users.end_sessions,
    methods=["POST"],
)
for name in ("deactivate", "activate", "send_link"):
    bp.add_url_rule(
        f"/admin/users/<int:user_id>/{name.replace('_', '-')}",
        view_func=getattr(admin_user_actions, name),
        methods=["POST"],
    )
bp.add_url_rule(
    "/admin/users/<int:user_id>/mfa-reset",
    view_func=admin_user_actions.reset_user_mfa,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/users/<int:user_id>/tokens/<int:token_id>/revoke",
    view_func=admin_user_actions.revoke_token,
    endpoint="revoke_user_token",
    methods=["POST"],
)
# organisations
bp.add_url_rule("/admin/organisations", view_func=admin.organisations)
bp.add_url_rule(
    "/admin/organisations/new", view_func=admin_orgs.new_organisation, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/admin/organisations/<int:organisation_id>",
    view_func=admin_orgs.organisation,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/admin/organisations/<int:organisation_id>/assets",
    view_func=admin_orgs.add_asset,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/organisations/<int:organisation_id>/assets/<int:asset_id>/remove",
    view_func=admin_orgs.remove_asset,
    methods=["POST"],
)

# vigilance centres
bp.add_url_rule("/admin/centres", view_func=admin_centres.centres)
bp.add_url_rule("/admin/centres/new", view_func=admin_centres.new_centre, methods=["GET", "POST"])
bp.add_url_rule("/admin/centres/<slug>", view_func=admin_centres.centre, methods=["GET", "POST"])
bp.add_url_rule(
    "/admin/centres/<slug>/members", view_func=admin_centres.add_member, methods=["POST"]
)
bp.add_url_rule(
    "/admin/centres/<slug>/members/<int:user_id>/remove",
    view_func=admin_centres.remove_member,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/centres/<slug>/members/<int:user_id>/duty",
    view_func=admin_centres.set_duty,
    methods=["POST"],
)
bp.add_url_rule("/admin/centres/<slug>/shifts", view_func=admin_centres.add_shift, methods=["POST"])
bp.add_url_rule(
    "/admin/centres/<slug>/shifts/<int:shift_id>/remove",
    view_func=admin_centres.remove_shift,
    methods=["POST"],
)


@login_required
def home() -> str:
    """Landing page: what the signed-in user can do now, by role."""
    return render_template("home.html")


def init_app(app: Flask, *, login_rate_limit: str, sso_settings: SsoSettings | None) -> None:
    """The home page and the ``auth`` blueprint; sign-in attempts, password changes (which
    check the current password), "forgot my password" requests, the use of password links,
    second-factor codes and the account page's two-factor forms (which check a code) limited per
    client address, and so are the single sign-on's start and answer (GET). A web session of a
    role that must enrol in two-factor sign-in but has not (and did not sign in through the
    identity provider) opens only the enrolment page."""
    app.add_url_rule("/", "home", home)
    app.register_blueprint(bp)
    app.before_request(second_factor.enforce_enrolment)
    for endpoint in (
        "login",
        "change_password",
        "forgot",
        "reset",
        "second_factor",
        "enrol_second_factor",
        "recovery_codes",
        "disable_second_factor",
    ):
        rate_limit(app, f"auth.{endpoint}", login_rate_limit, methods=["POST"])
    for endpoint in ("sso_login", "sso_callback"):
        rate_limit(app, f"auth.{endpoint}", login_rate_limit, methods=["GET"])
    sso.init_app(app, sso_settings)
