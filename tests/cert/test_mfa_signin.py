"""The two-step sign-in (cert.accounts.second_factor), through the test client on both DBs, with
the product's default CERT_MFA_REQUIRED_ROLES: an analyst who has not enrolled can open nothing
but the enrolment page after the password (no session exists before the second factor); enrols
by reading the secret from the page; signs in with a code (never the same one twice) or a
recovery code (once); reporters are asked only once enrolled; the next address survives both
steps and never leaves the site; the pending sign-in expires, dies with a password change, is
CSRF-protected, rate-limited and throttled."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from cert.app import create_app
from core.audit import AccountAction, AuditEntry
from core.auth import mfa
from core.auth import services as accounts
from core.clock import FrozenClock
from core.identity.models import Role, User, UserSession
from tests.cert.test_web_pages import EXTERNAL_ASSET, INLINE_HANDLER, INLINE_SCRIPT, INLINE_STYLE
from tests.kit.factories import PASSWORD, SYSTEM, make_user
from tests.kit.web import csrf_token, login, text

MFA_ROLES = "analyst,lead,admin"
SECRET = re.compile(r"data-secret>([A-Z2-7 ]+)<")
CODES = re.compile(r'<li class="col">([a-z0-9-]{14})</li>')


@pytest.fixture
def mfa_app(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> Flask:
    config = {**settings, "mfa_required_roles": MFA_ROLES}
    return create_app(config, session_factory=session_factory, clock=clock)


@pytest.fixture
def web(mfa_app: Flask) -> FlaskClient:
    return mfa_app.test_client()


def _user(db: Session, clock: FrozenClock, role: str = Role.ANALYST) -> User:
    return make_user(db, clock, role=role, email=f"{role}.mfa@cert.gov.ma")


def _code_post(client: FlaskClient, code: str, *, recovery: bool = False) -> TestResponse:
    page = text(client.get("/login/two-factor"))
    name = "recovery_code" if recovery else "code"
    return client.post("/login/two-factor", data={"csrf_token": csrf_token(page), name: code})


def _enrol_page(client: FlaskClient) -> tuple[str, str]:
    page = text(client.get("/login/two-factor/enrol"))
    match = SECRET.search(page)
    assert match, page
    return match.group(1).replace(" ", ""), csrf_token(page)


def _enrol(client: FlaskClient, clock: FrozenClock) -> tuple[str, list[str], TestResponse]:
    secret, token = _enrol_page(client)
    code = mfa.current_code(secret, clock.now())
    response = client.post("/login/two-factor/enrol", data={"csrf_token": token, "code": code})
    assert response.status_code == 200, text(response)
    return secret, CODES.findall(text(response)), response


def _csp_clean(html: str) -> None:
    """Nothing the Content-Security-Policy would block (the QR code's SVG included)."""
    for pattern in (INLINE_SCRIPT, INLINE_STYLE, INLINE_HANDLER, EXTERNAL_ASSET):
        assert not pattern.search(html), pattern.search(html)


def _sessions(db: Session, user: User) -> list[UserSession]:
    return list(db.scalars(select(UserSession).where(UserSession.user_id == user.id)))


def _logout(client: FlaskClient) -> None:
    token = csrf_token(text(client.get("/account")))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def _enrolled(db: Session, clock: FrozenClock, user: User, settings: dict[str, Any]) -> str:
    seal = mfa.sealer(settings["secret_key"])
    secret = mfa.start_enrolment(db, user, seal=seal)
    mfa.confirm_enrolment(
        db, SYSTEM, user, mfa.current_code(secret, clock.now()), seal=seal, clock=clock
    )
    db.commit()
    clock.advance(seconds=30)  # the code that enrolled is used
    return secret


def test_an_analyst_after_the_password_can_open_nothing_but_the_enrolment(
    web: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    analyst = _user(db_session, clock)
    response = login(web, analyst.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/two-factor/enrol"
    assert _sessions(db_session, analyst) == []  # no session before the second factor
    for path in (
        "/queue",
        "/account",
        "/admin/users",
        "/",
        "/incidents/new",
        "/dashboard",
        "/mail",
    ):
        answer = web.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/login"), path
    assert web.get("/api/v1/me").status_code == 401
    # the sign-in page sends the pending sign-in back to its step, keeping where to go next
    back = web.get("/login?next=/queue")
    assert back.headers["Location"] == "/login/two-factor/enrol"
    assert web.get("/login/two-factor").headers["Location"] == "/login/two-factor/enrol"
    page = web.get("/login/two-factor/enrol")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = text(page)
    assert "<svg" in html and "data-qr" in html and "maCERT" in html and analyst.email in html
    assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html
    _csp_clean(html)
    row = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == AccountAction.LOGIN.value)
    ).one()
    assert row.after == {"trusted_device": False, "second_factor": "enrol"}


def test_enrolment_then_codes_then_a_recovery_code_once(
    web: FlaskClient, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> None:
    analyst = _user(db_session, clock)
    login(web, analyst.email, PASSWORD, next_url="/queue")
    secret, token = _enrol_page(web)
    assert _enrol_page(web)[0] == secret  # a reload shows the same secret
    wrong = web.post("/login/two-factor/enrol", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 422 and "is-invalid" in text(wrong)
    assert 'id="code"' in text(wrong) and _sessions(db_session, analyst) == []
    code = mfa.current_code(secret, clock.now())
    done = web.post("/login/two-factor/enrol", data={"csrf_token": token, "code": code})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = CODES.findall(text(done))
    assert len(set(codes)) == 10
    _csp_clean(text(done))
    assert 'href="/queue"' in text(done)  # the next address kept through enrolment
    assert [s.auth_method for s in _sessions(db_session, analyst)] == ["totp"]
    assert web.get("/queue").status_code == 200
    _logout(web)

    # the same code again (same step): refused as replayed, even with the right password
    assert login(web, analyst.email, PASSWORD).headers["Location"] == "/login/two-factor"
    # the password alone cannot enrol a new secret over the one in use
    assert web.get("/login/two-factor/enrol").headers["Location"] == "/login/two-factor"
    token = csrf_token(text(web.get("/login/two-factor")))
    again = web.post("/login/two-factor/enrol", data={"csrf_token": token, "code": code})
    assert again.headers["Location"] == "/login/two-factor"
    _csp_clean(text(web.get("/login/two-factor")))
    replay = _code_post(web, code)
    assert replay.status_code == 422 and "a déjà été utilisé" in text(replay)
    assert web.get("/queue").status_code == 302
    clock.advance(seconds=30)
    fresh = _code_post(web, mfa.current_code(secret, clock.now()))
    assert fresh.status_code == 302 and fresh.headers["Location"] == "/"
    assert web.get("/queue").status_code == 200
    _logout(web)

    login(web, analyst.email, PASSWORD)
    recovered = _code_post(web, codes[3].upper().replace("-", " "), recovery=True)
    assert recovered.status_code == 302
    methods = sorted(s.auth_method or "" for s in _sessions(db_session, analyst))
    assert methods == ["recovery", "totp", "totp"]
    _logout(web)
    login(web, analyst.email, PASSWORD)
    again = _code_post(web, codes[3], recovery=True)
    assert again.status_code == 422 and web.get("/queue").status_code == 302
    signins = db_session.scalars(
        select(AuditEntry.after)
        .where(AuditEntry.action == AccountAction.MFA_SIGNIN.value)
        .order_by(AuditEntry.id)
    )
    assert [row["method"] for row in signins] == ["totp", "totp", "recovery"]


def test_reporters_are_asked_only_once_enrolled(
    web: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    reporter = _user(db_session, clock, Role.REPORTER)
    assert login(web, reporter.email, PASSWORD).headers["Location"] == "/"
    assert [s.auth_method for s in _sessions(db_session, reporter)] == ["password"]
    assert 'href="/login/two-factor/enrol"' in text(web.get("/account"))
    secret, codes, done = _enrol(web, clock)
    assert len(codes) == 10 and 'href="/account"' in text(done)
    assert web.get("/login/two-factor/enrol").headers["Location"] == "/account"  # already on
    _logout(web)
    assert login(web, reporter.email, PASSWORD).headers["Location"] == "/login/two-factor"
    assert web.get("/account").status_code == 302
    clock.advance(seconds=30)
    assert _code_post(web, mfa.current_code(secret, clock.now())).status_code == 302
    assert web.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("next_url", "lands"),
    [
        ("/queue?state=open", "/queue?state=open"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_the_next_address_survives_both_steps_and_stays_on_the_site(
    web: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    settings: dict[str, Any],
    next_url: str,
    lands: str,
) -> None:
    analyst = _user(db_session, clock)
    secret = _enrolled(db_session, clock, analyst, settings)
    assert login(web, analyst.email, PASSWORD, next_url=next_url).status_code == 302
    done = _code_post(web, mfa.current_code(secret, clock.now()))
    assert done.headers["Location"] == lands


def test_the_pending_sign_in_expires_after_ten_minutes(
    web: FlaskClient, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> None:
    analyst = _user(db_session, clock)
    secret = _enrolled(db_session, clock, analyst, settings)
    login(web, analyst.email, PASSWORD)
    token = csrf_token(text(web.get("/login/two-factor")))
    clock.advance(minutes=10, seconds=1)
    code = mfa.current_code(secret, clock.now())
    late = web.post("/login/two-factor", data={"csrf_token": token, "code": code})
    assert late.status_code == 302 and late.headers["Location"] == "/login"
    assert web.get("/login/two-factor").headers["Location"] == "/login"
    assert _sessions(db_session, analyst) == []


def test_a_password_change_voids_the_pending_sign_in(
    web: FlaskClient, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> None:
    analyst = _user(db_session, clock)
    secret = _enrolled(db_session, clock, analyst, settings)
    login(web, analyst.email, PASSWORD)
    token = csrf_token(text(web.get("/login/two-factor")))
    accounts.set_password(db_session, SYSTEM, analyst, "Seven quiet harbours at dusk", clock=clock)
    db_session.commit()
    code = mfa.current_code(secret, clock.now())
    voided = web.post("/login/two-factor", data={"csrf_token": token, "code": code})
    assert voided.headers["Location"] == "/login" and _sessions(db_session, analyst) == []


def test_codes_need_the_csrf_token_and_are_rate_limited(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
) -> None:
    config = {**settings, "mfa_required_roles": MFA_ROLES, "login_rate_limit": "2 per minute"}
    client = create_app(config, session_factory=session_factory, clock=clock).test_client()
    analyst = _user(db_session, clock)
    secret = _enrolled(db_session, clock, analyst, settings)
    login(client, analyst.email, PASSWORD)
    code = mfa.current_code(secret, clock.now())
    assert client.post("/login/two-factor", data={"code": code}).status_code == 400
    assert client.post("/login/two-factor/enrol", data={"code": code}).status_code == 400
    token = csrf_token(text(client.get("/login/two-factor")))
    statuses = [
        client.post("/login/two-factor", data={"csrf_token": token, "code": "123456"}).status_code
        for _ in range(3)
    ]
    assert statuses == [422, 422, 429]
    assert _sessions(db_session, analyst) == []


def test_wrong_codes_throttle_the_account_and_drop_the_pending_sign_in(
    web: FlaskClient, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> None:
    analyst = _user(db_session, clock)
    secret = _enrolled(db_session, clock, analyst, settings)
    web.get("/login?lang=en")
    login(web, analyst.email, PASSWORD)
    for _ in range(4):
        assert _code_post(web, "999999").status_code == 422
    fifth = _code_post(web, "999999")  # starts the wait: the pending sign-in is dropped
    assert fifth.status_code == 302 and fifth.headers["Location"] == "/login"
    assert "Too many wrong codes" in text(web.get("/login"))
    assert web.get("/login/two-factor").headers["Location"] == "/login"  # dropped
    login(web, analyst.email, PASSWORD)  # the password again: the account still waits
    right = _code_post(web, mfa.current_code(secret, clock.now()))
    assert right.headers["Location"] == "/login" and _sessions(db_session, analyst) == []
    assert "Too many wrong codes" in text(web.get("/login"))
    clock.advance(minutes=2)
    login(web, analyst.email, PASSWORD)
    assert _code_post(web, mfa.current_code(secret, clock.now())).headers["Location"] == "/"
    failed = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == AccountAction.MFA_FAILED.value)
    ).all()
    assert len(failed) == 6  # five wrong, one refused while throttled


def test_an_open_session_of_a_role_that_must_enrol_opens_only_the_enrolment(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
) -> None:
    """A session started before the requirement (or before a role change) is held back."""
    before = create_app(settings, session_factory=session_factory, clock=clock)
    client = before.test_client()
    analyst = _user(db_session, clock)
    assert login(client, analyst.email, PASSWORD).headers["Location"] == "/"
    after = create_app(
        {**settings, "mfa_required_roles": MFA_ROLES}, session_factory=session_factory, clock=clock
    )
    later = after.test_client()
    cookie = client.get_cookie("vigie_session")
    assert cookie is not None
    later.set_cookie("vigie_session", cookie.value)
    assert later.get("/queue").headers["Location"] == "/login/two-factor/enrol"
    assert later.get("/queue", headers={"Accept": "application/json"}).status_code == 403
    secret, codes, done = _enrol(later, clock)
    assert len(codes) == 10 and later.get("/queue").status_code == 200
