"""Signing in and out through the HTML pages: forms, CSRF, rate limit, cookies, session ends."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.audit import AuditEntry
from core.auth import services as accounts
from core.clock import FrozenClock
from core.config import ConfigError, load_config
from core.web.auth import safe_next
from tests.kit.factories import PASSWORD, SYSTEM, make_user
from tests.kit.web import csrf_token, login, logout, text

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."


def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient) -> None:
    assert client.get("/").headers["Location"] == "/login?next=/"
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"


def test_login_success_redirects_to_next_and_audits(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, name="Amina Tazi")
    response = login(client, user.email.upper(), PASSWORD, next_url="/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    page = text(client.get("/account"))
    assert "Amina Tazi" in page and "Bienvenue, Amina Tazi." in page
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))
    )
    assert "auth.login" in list(actions)


def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    wrong_password = login(client, user.email, "not the password at all")
    unknown = login(client, "nobody@example.gov.ma", PASSWORD)
    for response in (wrong_password, unknown):
        assert response.status_code == 200
        assert BAD_CREDENTIALS in text(response)
    assert client.get("/account").status_code == 302  # still anonymous
    failures = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
    ).all()
    assert {entry.actor_label for entry in failures} == {user.email, "nobody@example.gov.ma"}


def test_deactivated_users_cannot_log_in(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    accounts.set_active(db_session, SYSTEM, user, False, clock=clock)
    db_session.flush()
    response = login(client, user.email, PASSWORD)
    assert BAD_CREDENTIALS in text(response)
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
        None,
    ],
)
def test_next_never_leaves_the_site(target: str | None) -> None:
    assert safe_next(target, "/") == "/"


def test_next_keeps_local_paths() -> None:
    assert safe_next("/admin/audit?action=user.create", "/") == "/admin/audit?action=user.create"


def test_login_ignores_an_external_next(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    response = login(client, user.email, PASSWORD, next_url="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_login_form_requires_its_csrf_token(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Ce formulaire a expiré ou n’est pas valide." in text(response)
    forged = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert client.get("/account").status_code == 302


def test_csrf_is_enforced_even_in_testing(app: Flask) -> None:
    assert app.config["TESTING"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert 0 < app.config["WTF_CSRF_TIME_LIMIT"] <= 8 * 3600


def test_logout_is_a_post_with_csrf(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/account").status_code == 200
    response = logout(client)
    assert response.headers["Location"] == "/login"
    assert "Vous avez été déconnecté." in text(client.get("/login"))
    assert client.get("/account").status_code == 302


def test_login_attempts_are_rate_limited(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> None:
    app = create_app(
        {**settings, "login_rate_limit": "3 per minute"},
        session_factory=session_factory,
        clock=clock,
    )
    client = app.test_client()
    token = csrf_token(text(client.get("/login")))
    attempt = {"csrf_token": token, "email": "x@example.gov.ma", "password": "wrong password"}
    for _ in range(3):
        assert client.post("/login", data=attempt).status_code == 200
    blocked = client.post("/login", data=attempt)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in text(blocked)
    assert int(blocked.headers["Retry-After"]) > 0
    assert client.get("/login").status_code == 200  # reading the form is not an attempt


def _attempts(client: FlaskClient, forwarded_for: str, count: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for}
    token = csrf_token(text(client.get("/login", headers=headers)))
    attempt = {"csrf_token": token, "email": "x@example.gov.ma", "password": "wrong password"}
    return [client.post("/login", data=attempt, headers=headers).status_code for _ in range(count)]


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_a_reverse_proxy_the_limit_and_the_audit_see_the_client(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
    proxies: int,
) -> None:
    app = create_app(
        {**settings, "login_rate_limit": "2 per minute", "proxy_count": proxies},
        session_factory=session_factory,
        clock=clock,
    )
    client = app.test_client()  # every request comes from 127.0.0.1, like a local proxy's
    assert _attempts(client, "198.51.100.7", 3) == [200, 200, 429]
    other_client = _attempts(client, "203.0.113.9", 1)
    ips = set(
        db_session.scalars(select(AuditEntry.ip).where(AuditEntry.action == "auth.login_failed"))
    )
    if proxies:  # one trusted proxy: each client has its own budget and is audited as itself
        assert other_client == [200]
        assert ips == {"198.51.100.7", "203.0.113.9"}
    else:  # no trusted proxy: the header is the client's word, ignored (no forged reset)
        assert other_client == [429]
        assert ips == {"127.0.0.1"}


def test_an_invalid_proxy_count_stops_start_up(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="CERT_PROXY_COUNT: must be from 0 to 5, got 9"):
        load_config(
            environ={"CERT_INSTANCE_DIR": str(settings["instance_dir"]), "CERT_PROXY_COUNT": "9"}
        )


def test_an_invalid_rate_limit_stops_start_up(
    settings: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    with pytest.raises(ValueError, match="invalid rate limit"):
        create_app({**settings, "login_rate_limit": "lots"}, session_factory=session_factory)


def _session_cookie(client: FlaskClient, email: str) -> str:
    response = login(client, email, PASSWORD)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("vigie_session=")]
    assert cookies, "no session cookie set at login"
    return cookies[-1]


def test_session_cookie_flags(client: FlaskClient, db_session: Session, clock: FrozenClock) -> None:
    cookie = _session_cookie(client, make_user(db_session, clock).email)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # base_url is http:// in the tests


def test_session_cookie_is_secure_behind_https(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    db_session: Session,
) -> None:
    config = {**settings, "base_url": "https://vigie.example.gov.ma"}
    app = create_app(config, session_factory=session_factory, clock=clock)
    cookie = _session_cookie(app.test_client(), make_user(db_session, clock).email)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_password_change_ends_open_sessions(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    assert client.get("/account").status_code == 200
    accounts.set_password(db_session, SYSTEM, user, "another long passphrase", clock=clock)
    db_session.flush()
    assert client.get("/account").status_code == 302
    assert login(client, user.email, "another long passphrase").status_code == 302


def test_deactivation_ends_open_sessions(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    accounts.set_active(db_session, SYSTEM, user, False, clock=clock)
    db_session.flush()
    assert client.get("/account").status_code == 302


def test_a_signed_in_user_visiting_login_goes_home(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    assert client.get("/login").headers["Location"] == "/"
