"""A sign-in waiting for its second factor: the password was right, no session exists yet.

The state lives in Flask's signed session cookie (``mfa_pending``): the user's id, a digest of
the user's session nonce, when the password was checked and where to go next. Nothing in the
application treats its holder as signed in (``current_account()`` stays ``None``: every other
page sends them to the sign-in page); only the second-factor pages
(:mod:`cert.accounts.second_factor`) read it. It lasts :data:`LIFETIME`; a password change or a
deactivation (which change the nonce) voids it; it is dropped on success, on the throttle and on
"cancel" (the logout button).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from flask import session

from core.identity.models import User
from core.web import context, get_session
from core.web.auth import safe_next

KEY = "mfa_pending"
LIFETIME = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Pending:
    user: User
    next_url: str


def _nonce_digest(user: User) -> str:
    return hashlib.sha256(b"mfa pending\0" + user.session_nonce.encode()).hexdigest()


def begin(user: User, next_url: str) -> None:
    """The password of ``user`` was right: wait for the second factor (replaces any other)."""
    session[KEY] = {
        "user": user.id,
        "nonce": _nonce_digest(user),
        "at": context().clock.now().timestamp(),
        "next": next_url,
    }


def load() -> Pending | None:
    """The pending sign-in of this browser while it holds (young enough, same nonce, active
    account allowed to sign in with a password); a stale one is dropped."""
    state = session.get(KEY)
    found = _check(state) if isinstance(state, dict) else None
    if found is None and state is not None:
        drop()
    return found


def _check(state: dict[str, object]) -> Pending | None:
    user_id, nonce, at, next_url = (state.get(k) for k in ("user", "nonce", "at", "next"))
    if not isinstance(user_id, int) or not isinstance(nonce, str) or not isinstance(at, float):
        return None
    age = context().clock.now() - dt.datetime.fromtimestamp(at, tz=dt.UTC)
    if not dt.timedelta(0) <= age <= LIFETIME:
        return None
    user = get_session().get(User, user_id)
    if user is None or not user.is_active or not user.password_login or not user.password_hash:
        return None
    if not hmac.compare_digest(_nonce_digest(user), nonce):
        return None
    return Pending(user, safe_next(next_url if isinstance(next_url, str) else None, "/"))


def retarget(next_url: str) -> None:
    """Where to go once the second factor is given (a later link to the sign-in page)."""
    state = session.get(KEY)
    if isinstance(state, dict):
        session[KEY] = {**state, "next": next_url}


def drop() -> None:
    session.pop(KEY, None)
