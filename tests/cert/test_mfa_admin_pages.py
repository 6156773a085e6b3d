"""The pages of an enrolled second factor: the administrator's reset on a user's page (status,
CSRF, refused below admin and for oneself, 404 for an unknown user, the user's sessions end and
an e-mail goes), the users list's column, and the account page's section (new recovery codes and
turning it off, each with a current code; security events; how each session was proven) — on
both DBs."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.audit import AuditEntry
from core.auth import mfa
from core.clock import FrozenClock
from core.identity.models import MfaRecoveryCode, Role, User, UserSession
from core.outbox import OutboxMessage
from tests.kit.factories import PASSWORD, actor_of, make_user
from tests.kit.outbox import SECRET_KEY
from tests.kit.web import csrf_token, login, sign_in, text

SEAL = mfa.sealer(SECRET_KEY)


def enrol(db: Session, clock: FrozenClock, user: User) -> tuple[str, list[str]]:
    """Enrol ``user`` through the kernel (after signing in: the session stays good)."""
    secret = mfa.start_enrolment(db, user, seal=SEAL)
    code = mfa.current_code(secret, clock.now())
    codes = mfa.confirm_enrolment(db, actor_of(user), user, code, seal=SEAL, clock=clock)
    for row in db.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        row.auth_method = mfa.Method.TOTP  # as if the sign-in had asked for a code
    db.flush()
    clock.advance(seconds=mfa.STEP_SECONDS * 3)
    return secret, codes


def _sign_in_with_code(client: FlaskClient, user: User, secret: str, clock: FrozenClock) -> None:
    """The two-step sign-in: the password, then the authenticator's current code."""
    assert login(client, user.email, PASSWORD).headers["Location"] == "/login/two-factor"
    step = _post(
        client, "/login/two-factor", "/login/two-factor", code=mfa.current_code(secret, clock.now())
    )
    assert step.status_code == 302 and step.headers["Location"] == "/", text(step)


def _post(client: FlaskClient, path: str, page: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(text(client.get(page))), **data})


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def cast(app: Flask, db_session: Session, clock: FrozenClock) -> dict[str, Any]:
    """An administrator and an enrolled analyst, each signed in in a browser of their own."""
    admin = make_user(db_session, clock, role=Role.ADMIN, name="Admin")
    analyst = make_user(db_session, clock, role=Role.ANALYST, name="Amal", locale="ar")
    admin_client, analyst_client = app.test_client(), app.test_client()
    for client, user in ((admin_client, admin), (analyst_client, analyst)):
        sign_in(client, user)
        client.get("/account?lang=en")  # the pages in English from now on
    enrol(db_session, clock, analyst)
    return {
        "admin": admin,
        "analyst": analyst,
        "as_admin": admin_client,
        "as_analyst": analyst_client,
    }


# ---------------------------------------------------------------- the administrator's reset
def test_an_admin_resets_the_second_factor_and_the_analyst_is_signed_out(
    cast: dict[str, Any], db_session: Session
) -> None:
    admin_client, analyst = cast["as_admin"], cast["analyst"]
    page = f"/admin/users/{analyst.id}"
    html = text(admin_client.get(page))
    assert "Enrolled since" in html and "Recovery codes left: 10" in html
    assert f'action="/admin/users/{analyst.id}/mfa-reset"' in html and "data-confirm" in html
    assert cast["as_analyst"].get("/account").status_code == 200
    response = _post(admin_client, f"/admin/users/{analyst.id}/mfa-reset", page)
    assert response.status_code == 302 and response.headers["Location"] == page
    shown = text(admin_client.get(page))
    assert "has been reset: their sessions have ended (1)" in shown
    assert "Not enrolled" in shown and "/mfa-reset" not in shown
    after = cast["as_analyst"].get("/account")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    db_session.expire_all()
    assert not analyst.mfa_enrolled
    assert _count(db_session, MfaRecoveryCode) == 0
    message = db_session.scalars(select(OutboxMessage)).one()
    assert (message.to_addr, message.language) == (analyst.email, "ar")
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "mfa.reset")).one()
    assert entry.actor_id == cast["admin"].id and entry.object_id == str(analyst.id)
    # the admin's own session is untouched
    assert admin_client.get("/admin/users").status_code == 200


def test_the_reset_needs_its_csrf_token(cast: dict[str, Any], db_session: Session) -> None:
    analyst = cast["analyst"]
    response = cast["as_admin"].post(f"/admin/users/{analyst.id}/mfa-reset", data={})
    assert response.status_code == 400
    db_session.expire_all()
    assert analyst.mfa_enrolled and _count(db_session, OutboxMessage) == 0
    assert cast["as_analyst"].get("/account").status_code == 200


@pytest.mark.parametrize("role", [Role.REPORTER, Role.ANALYST, Role.LEAD])
def test_the_reset_is_forbidden_below_admin(
    app: Flask, cast: dict[str, Any], db_session: Session, clock: FrozenClock, role: str
) -> None:
    analyst, other = cast["analyst"], app.test_client()
    sign_in(other, make_user(db_session, clock, role=role))
    writes = _count(db_session, AuditEntry)
    response = _post(other, f"/admin/users/{analyst.id}/mfa-reset", "/account")
    assert response.status_code == 403
    assert _count(db_session, AuditEntry) == writes
    db_session.expire_all()
    assert analyst.mfa_enrolled


def test_unknown_users_and_anonymous_visitors(
    client: FlaskClient, cast: dict[str, Any], db_session: Session
) -> None:
    page = f"/admin/users/{cast['admin'].id}"
    missing = _post(cast["as_admin"], f"/admin/users/{cast['analyst'].id + 999}/mfa-reset", page)
    assert missing.status_code == 404
    assert client.post(f"/admin/users/{cast['analyst'].id}/mfa-reset").status_code in {302, 400}
    db_session.expire_all()
    assert cast["analyst"].mfa_enrolled


def test_an_admin_does_not_reset_their_own(
    cast: dict[str, Any], db_session: Session, clock: FrozenClock
) -> None:
    admin, admin_client = cast["admin"], cast["as_admin"]
    enrol(db_session, clock, admin)
    page = f"/admin/users/{admin.id}"
    html = text(admin_client.get(page))
    assert "/mfa-reset" not in html and "You cannot reset your own two-factor sign-in" in html
    response = _post(admin_client, f"{page}/mfa-reset", page)
    assert response.status_code == 302
    assert "You cannot reset your own two-factor sign-in" in text(admin_client.get(page))
    db_session.expire_all()
    assert admin.mfa_enrolled and admin_client.get("/account").status_code == 200


def test_a_reset_without_a_second_factor_says_so_and_ends_nothing(
    app: Flask, cast: dict[str, Any], db_session: Session, clock: FrozenClock
) -> None:
    reporter, reporter_client = make_user(db_session, clock), app.test_client()
    sign_in(reporter_client, reporter)
    page = f"/admin/users/{reporter.id}"
    html = text(cast["as_admin"].get(page))
    assert "Not enrolled" in html and "/mfa-reset" not in html
    _post(cast["as_admin"], f"{page}/mfa-reset", page)
    assert "has no two-factor sign-in: nothing to reset" in text(cast["as_admin"].get(page))
    assert reporter_client.get("/account").status_code == 200
    assert _count(db_session, OutboxMessage) == 0


def test_the_users_list_shows_who_enrolled(cast: dict[str, Any]) -> None:
    html = text(cast["as_admin"].get("/admin/users"))
    assert html.count('data-mfa="on"') == 1 and html.count('data-mfa="off"') == 1


def test_the_admin_page_says_when_the_role_requires_it(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock,
    db_session: Session,
) -> None:  # fmt: skip
    strict = create_app(
        {**settings, "mfa_required_roles": "analyst,lead,admin"},
        session_factory=session_factory,
        clock=clock,
    )
    admin, client = make_user(db_session, clock, role=Role.ADMIN), strict.test_client()
    secret, _ = enrol(db_session, clock, admin)
    _sign_in_with_code(client, admin, secret, clock)
    analyst, reporter = (
        make_user(db_session, clock, role=Role.ANALYST),
        make_user(db_session, clock),
    )
    page = client.get(f"/admin/users/{analyst.id}?lang=en")
    assert page.status_code == 200
    assert "Required by the role" in text(page) and "Not enrolled" in text(page)
    assert "Required by the role" not in text(client.get(f"/admin/users/{reporter.id}"))


# ---------------------------------------------------------------- the account page
def test_the_account_page_shows_the_second_factor_and_security_events(
    cast: dict[str, Any],
) -> None:
    html = text(cast["as_analyst"].get("/account?lang=en"))
    assert 'data-mfa-status="on"' in html and "Recovery codes left: 10" in html
    assert 'action="/account/two-factor/recovery-codes"' in html
    assert 'action="/account/two-factor/disable"' in html  # the suite requires no role
    assert 'data-action="mfa.enrol"' in html and 'data-action="auth.login"' in html
    assert "Two-factor sign-in set up" in html
    assert 'data-auth-method="totp"' in html and "Authenticator code" in html


def test_new_recovery_codes_need_a_current_code(
    cast: dict[str, Any], db_session: Session, clock: FrozenClock
) -> None:
    client, analyst = cast["as_analyst"], cast["analyst"]
    secret = SEAL.open(analyst.totp_secret or "")
    path = "/account/two-factor/recovery-codes"
    wrong = _post(client, path, "/account?lang=en", code="123456")
    assert wrong.status_code == 422
    assert "This code is not valid" in text(wrong) and 'id="recovery-codes-code"' in text(wrong)
    failures = select(func.count()).where(AuditEntry.action == "mfa.failed")
    assert db_session.scalar(failures) == 1  # committed despite the refusal
    assert (
        client.post(path, data={"code": mfa.current_code(secret, clock.now())}).status_code == 400
    )
    right = _post(client, path, "/account", code=mfa.current_code(secret, clock.now()))
    assert right.status_code == 200 and right.headers["Cache-Control"] == "no-store"
    shown = text(right)
    assert shown.count('<li class="col">') == mfa.RECOVERY_CODES
    assert 'href="/account"' in shown
    assert db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == (
        "mfa.recovery_codes"
    )
    empty = _post(client, path, "/account", code="")
    assert empty.status_code == 422


def test_turning_it_off_with_a_current_code(
    cast: dict[str, Any], db_session: Session, clock: FrozenClock
) -> None:
    client, analyst = cast["as_analyst"], cast["analyst"]
    secret = SEAL.open(analyst.totp_secret or "")
    path = "/account/two-factor/disable"
    wrong = _post(client, path, "/account?lang=en", code="000000")
    assert wrong.status_code == 422 and "This code is not valid" in text(wrong)
    done = _post(client, path, "/account", code=mfa.current_code(secret, clock.now()))
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    html = text(client.get("/account?lang=en"))
    assert "Two-factor sign-in is turned off" in html and 'data-mfa-status="off"' in html
    assert 'data-action="mfa.disable"' in html
    db_session.expire_all()
    assert not analyst.mfa_enrolled


def test_a_role_that_requires_it_cannot_turn_it_off(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock,
    db_session: Session,
) -> None:  # fmt: skip
    strict = create_app(
        {**settings, "mfa_required_roles": "analyst,lead,admin"},
        session_factory=session_factory,
        clock=clock,
    )
    analyst, client = make_user(db_session, clock, role=Role.ANALYST), strict.test_client()
    secret, _ = enrol(db_session, clock, analyst)
    _sign_in_with_code(client, analyst, secret, clock)
    clock.advance(seconds=mfa.STEP_SECONDS * 3)  # the code of the sign-in is not accepted again
    html = text(client.get("/account?lang=en"))
    assert 'data-mfa-status="on"' in html
    assert "Your role requires two-factor sign-in" in html
    assert 'action="/account/two-factor/disable"' not in html
    refused = _post(
        client, "/account/two-factor/disable", "/account?lang=en",
        code=mfa.current_code(secret, clock.now()),
    )  # fmt: skip
    assert refused.status_code == 422 and "it cannot be turned off" in text(refused)
    db_session.expire_all()
    assert analyst.mfa_enrolled


def test_the_account_page_links_to_enrolment(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    client = app.test_client()
    sign_in(client, make_user(db_session, clock, role=Role.ANALYST))
    html = text(client.get("/account?lang=en"))
    assert 'data-mfa-status="off"' in html and 'href="/login/two-factor/enrol"' in html
    assert 'action="/account/two-factor/recovery-codes"' not in html
