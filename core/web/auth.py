"""Web kit for authentication: sessions (Flask-Login), the current actor and role decorators.

Web sessions live on the server (:mod:`core.auth.sessions`, table ``user_sessions``). The signed
cookie carries ``"<user id>:<session nonce>:<session id>"``; a request is signed in while the
session's row is open (not ended, not idle for ``CERT_SESSION_IDLE_MINUTES``, younger than
``CERT_SESSION_MAX_HOURS``) and the user's nonce still matches. Logout ends the row, so a copy of
the cookie is worthless afterwards; a password change or a deactivation ends every row (and
changes the nonce). No "remember me" cookie is ever set; one presented anyway goes through the
same loader. API requests carry no session; ``core.api`` authenticates their bearer token and
registers the user with :func:`use_api_user`. This module never imports domain packages.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import (  # type: ignore[import-untyped]
    LoginManager,
    UserMixin,
    current_user,
    login_user,
    logout_user,
)

from core.auth import sessions
from core.errors import AuthenticationFailed, PermissionDenied
from core.identity.authz import Actor, at_least, can_manage_users, can_read_audit
from core.identity.models import OrganisationKind, Role, User, UserSession
from core.web import context, error_response, get_session, unit_of_work, wants_json

P = ParamSpec("P")
R = TypeVar("R")

login_manager = LoginManager()

ROLE_LABELS = {
    Role.REPORTER: _l("Reporter"),
    Role.ANALYST: _l("Analyst"),
    Role.LEAD: _l("Coordinator"),
    Role.ADMIN: _l("Administrator"),
}
ORGANISATION_KIND_LABELS = {
    OrganisationKind.CERT: _l("CERT"),
    OrganisationKind.MINISTRY: _l("Ministry"),
    OrganisationKind.AGENCY: _l("Agency"),
    OrganisationKind.ESTABLISHMENT: _l("Public establishment"),
}


class SessionUser(UserMixin):  # type: ignore[misc]
    """What Flask-Login keeps for a signed-in user: the account, its open session and the session
    id (from the cookie; the database has only its hash)."""

    def __init__(self, account: User, web_session: UserSession, token: str) -> None:
        self.account = account
        self.web_session = web_session
        self.token = token

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_nonce}:{self.token}"

    @property
    def is_active(self) -> bool:
        return self.account.is_active

    @property
    def locale(self) -> str:
        return self.account.locale


def session_policy() -> sessions.SessionPolicy:
    settings = context().settings
    return sessions.SessionPolicy.of(
        idle_minutes=settings.session_idle_minutes, max_hours=settings.session_max_hours
    )


def load_session_user(key: str) -> SessionUser | None:
    """Flask-Login's user loader: the user while the session is open, the nonce matches and the
    account is active. Commits the once-a-minute ``last_seen_at`` stamp or the expiry it finds
    (it runs first thing in the request, see :func:`_load_user_first`)."""
    user_id, _, rest = key.partition(":")
    nonce, _, token = rest.partition(":")
    if not user_id.isdigit() or not nonce or not token or _is_api():
        return None
    db = get_session()
    row = sessions.resolve_session(db, token, policy=session_policy(), clock=context().clock)
    touched = db.dirty
    if touched and not (db.new or db.deleted) and all(isinstance(o, UserSession) for o in touched):
        unit_of_work().commit()  # the stamp or the expiry alone, never anything of the view's
    if row is None or row.user_id != int(user_id):
        return None
    user = row.user
    if not user.is_active:
        return None
    if not hmac.compare_digest(user.session_nonce.encode(), nonce.encode()):
        return None
    return SessionUser(user, row, token)


# Blueprints whose requests authenticate by token only and never read the session cookie: the
# API, and those a slice declares with :func:`token_only` (the TAXII server).
TOKEN_ONLY: set[str] = {"api"}


def token_only(blueprint: Blueprint) -> Blueprint:
    """Declare ``blueprint`` token-authenticated: its requests never load the signed-in user
    from the session cookie (nor stamp the session), so a browser's cookie means nothing there."""
    TOKEN_ONLY.add(blueprint.name)
    return blueprint


def _is_api() -> bool:
    blueprint = request.blueprint
    return blueprint is not None and blueprint.split(".")[0] in TOKEN_ONLY


def _load_user_first() -> None:
    """Load the signed-in user before the view runs, so that the loader's commit (the session
    stamp) never carries anything of the view's. API requests never use the session."""
    if _is_api() or request.endpoint == "static":
        return
    _ = current_user.is_authenticated


def current_web_session() -> UserSession | None:
    """The open session of this request (web pages only)."""
    if current_account() is None or g.get("api_user") is not None:
        return None
    row: UserSession = current_user.web_session
    return row


def _unauthorized() -> Any:
    if wants_json():
        return error_response(401, "unauthorized", "authentication required")
    if request.path != "/":  # the home page simply starts at the login form
        flash(gettext("Sign in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# ---------------------------------------------------------------- who is acting
def use_api_user(user: User) -> None:
    """Called by the API after checking a bearer token: this request acts as ``user``."""
    g.api_user = user
    unit_of_work().actor = None  # the token's user acts from now on


def current_account() -> User | None:
    """The signed-in user (web session) or the token's user (API), else ``None``."""
    api_user: User | None = g.get("api_user")
    if api_user is not None:
        return api_user
    if _is_api():
        return None  # the API never accepts session cookies (it is not CSRF-protected)
    if current_user.is_authenticated:
        account: User = current_user.account
        return account
    return None


def current_actor() -> Actor:
    """The :class:`Actor` of this request, with the client address for the audit log; kept as
    the request's unit of work's ``actor`` (until a sign-in or sign-out changes who acts)."""
    uow = unit_of_work()
    if uow.actor is None:
        account = current_account()
        if account is None:
            raise AuthenticationFailed("authentication required")
        uow.actor = Actor.for_user(account, ip=request.remote_addr)
    return uow.actor


def log_in(user: User, *, method: str | None = None) -> None:
    """Start a web session for ``user`` (the previous session's content is dropped); the caller
    commits. ``method``: how the sign-in was proven (``core.auth.mfa.Method``)."""
    _reset_session()
    row, token = sessions.start_session(
        get_session(),
        user,
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        clock=context().clock,
        auth_method=method,
    )
    login_user(SessionUser(user, row, token), remember=False)


def log_out() -> None:
    """End this session on the server (audited), then forget the cookie's content."""
    row = current_web_session()
    account = current_account()
    if row is not None and account is not None:
        sessions.end_session(
            get_session(),
            Actor.for_user(account, ip=request.remote_addr),
            row,
            reason=sessions.EndReason.LOGOUT,
            clock=context().clock,
        )
        unit_of_work().commit()
    logout_user()
    _reset_session()


def _reset_session() -> None:
    unit_of_work().actor = None  # whoever acted so far no longer does
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 32 for char in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


# ---------------------------------------------------------------- decorators
def login_required(view: Callable[P, R]) -> Callable[P, R | Any]:
    """Anonymous visitors go to the login page (HTML) or get a 401 envelope (JSON)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Any:
        if current_account() is None:
            return _unauthorized()
        return view(*args, **kwargs)

    return wrapper


def require(
    check: Callable[[Actor], bool], what: str = "this page"
) -> Callable[[Callable[P, R]], Callable[P, R | Any]]:
    """Signed-in users for whom ``check(actor)`` holds; others get 403 (HTML page or JSON)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R | Any]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Any:
            if current_account() is None:
                return _unauthorized()
            if not check(current_actor()):
                raise PermissionDenied(f"you may not access {what}")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def require_role(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R | Any]]:
    """Exactly one of ``roles``."""
    names = ", ".join(role.value for role in roles)
    return require(lambda actor: actor.has_role(*roles), f"this page (roles: {names})")


def require_at_least(role: Role) -> Callable[[Callable[P, R]], Callable[P, R | Any]]:
    """``role`` or above in the CERT hierarchy (admin ⊇ lead ⊇ analyst)."""
    return require(lambda actor: at_least(actor, role), f"this page (role {role.value} or above)")


# ---------------------------------------------------------------- set-up
def _template_context() -> dict[str, Any]:
    account = current_account()
    actor = Actor.for_user(account) if account is not None else None
    return {
        "account": account,
        "can_read_audit": actor is not None and can_read_audit(actor),
        "can_manage_users": actor is not None and can_manage_users(actor),
    }


def _role_label(role: str) -> str:
    return str(ROLE_LABELS.get(Role(role), role)) if role in set(Role) else role


def _kind_label(kind: str) -> str:
    if kind in set(OrganisationKind):
        return str(ORGANISATION_KIND_LABELS[OrganisationKind(kind)])
    return kind


def init_app(app: Flask) -> None:
    """Flask-Login with server-side sessions, and what templates need to know about the user."""
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_session_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_load_user_first)
    app.context_processor(_template_context)
    app.jinja_env.filters["role_label"] = _role_label
    app.jinja_env.filters["kind_label"] = _kind_label


__all__ = [
    "SessionUser",
    "current_account",
    "current_actor",
    "current_web_session",
    "init_app",
    "log_in",
    "log_out",
    "login_required",
    "require",
    "require_at_least",
    "require_role",
    "safe_next",
    "token_only",
    "use_api_user",
]
