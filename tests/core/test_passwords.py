"""The password policy (length, common and breached-style passwords, the user's e-mail and name)
everywhere a password is set, and changing one's own password from the account page."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cert.cli import COMMAND_MODULES, cli
from core.audit import AuditEntry
from core.auth import passwords
from core.auth import services as accounts
from core.auth.sessions import start_session
from core.clock import FrozenClock
from core.db import make_session_factory
from core.errors import ValidationFailed
from core.identity.models import UserSession
from core.uow import transaction
from tests.dbs import TestDatabase
from tests.kit.factories import PASSWORD, SYSTEM, make_org, make_user
from tests.kit.web import csrf_token, login, text

for _name in COMMAND_MODULES:
    importlib.import_module(f"cert.cli.{_name}")

EMAIL = "amina.tazi@interieur.gov.ma"
NAME = "Amina Tazi"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "at least 12 characters"),
        ("password1234", "too common"),
        ("1234567890123", "too common"),
        ("P@ssw0rd2024!", "too common"),
        ("Qwertyuiop123!", "too common"),
        ("iloveyou iloveyou", "too common"),
        ("98765432109876", "too predictable"),
        ("aaaaaaaaaaaaaaaa", "too predictable"),
        ("abcabcabcabcabc", "too predictable"),
        ("zyxwvutsrqponm", "too predictable"),
        ("Amina.Tazi-2026!", "must not contain your e-mail address"),
        ("my-amina.tazi-secret", "must not contain your e-mail address"),
        ("Sunset over Tazi bay", "must not contain your name"),
        ("AMÎNA loves long walks", "must not contain your name"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        passwords.check_password(password, email=EMAIL, name=NAME)
    assert set(err.value.fields) == {"password"}
    assert reason in err.value.fields["password"]


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "another long passphrase", "Tea-kettle 4 moonlit dunes", "v8#Qz!r2Lm@w9Kp"],
)
def test_good_passwords_pass(password: str) -> None:
    passwords.check_password(password, email=EMAIL, name=NAME)


def test_the_common_list_is_shipped_and_loaded() -> None:
    common = passwords.common_passwords()
    assert len(common) > 19000
    assert {"password", "123456", "qwerty", "iloveyou"} <= common


def test_create_and_set_password_apply_the_policy(db_session: Session, clock: FrozenClock) -> None:
    org = make_org(db_session, clock)
    with pytest.raises(ValidationFailed) as err:
        make_user(db_session, clock, org=org, email=EMAIL, name=NAME, password="amina.tazi!2026")
    assert "must not contain your e-mail address" in err.value.fields["password"]
    user = make_user(db_session, clock, org=org, email=EMAIL, name=NAME)
    for weak in ("Password123456", "Tazi tazi tazi tazi"):
        with pytest.raises(ValidationFailed):
            accounts.set_password(db_session, SYSTEM, user, weak, clock=clock)
    assert accounts.authenticate(db_session, EMAIL, PASSWORD, ip=None, clock=clock) is user


# ---------------------------------------------------------------- the account page
def _change(
    client: FlaskClient, current: str, new: str, confirm: str | None = None, *, lang: str = ""
) -> tuple[int, str]:
    page = text(client.get("/account" + lang))
    response = client.post(
        "/account/password" + lang,
        data={
            "csrf_token": csrf_token(page),
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )
    if response.status_code == 302:
        return 302, text(client.get(response.headers["Location"]))
    return response.status_code, text(response)


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, email=EMAIL, name=NAME)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, EMAIL, PASSWORD)
    login(elsewhere, EMAIL, PASSWORD)
    status, page = _change(here, PASSWORD, "Tea-kettle 4 moonlit dunes")
    assert status == 302
    assert "Votre mot de passe a été modifié" in page
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    rows = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert sorted(str(row.ended_reason) for row in rows) == ["None", "password"]
    actions = list(
        db_session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == user.id))
    )
    assert "user.password" in actions
    fresh = app.test_client()
    assert login(fresh, EMAIL, PASSWORD).status_code == 200  # the old password no longer works
    assert login(fresh, EMAIL, "Tea-kettle 4 moonlit dunes").status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "expected"),
    [
        ("not my password!", "Tea-kettle 4 moonlit dunes", None, "Mot de passe actuel incorrect."),
        (PASSWORD, "Tea-kettle 4 moonlit dunes", "Tea-kettle 4 moonlit", "ne correspondent pas"),
        (PASSWORD, "short one", None, "au moins 12 caractères"),
        (PASSWORD, "password123456", None, "trop courant"),
        (PASSWORD, "amina.tazi-2026!", None, "ne doit pas contenir votre adresse e-mail"),
        (PASSWORD, "Tazi and the sea", None, "ne doit pas contenir votre nom"),
    ],
)
def test_a_refused_change_names_the_field_and_changes_nothing(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    current: str,
    new: str,
    confirm: str | None,
    expected: str,
) -> None:
    make_user(db_session, clock, email=EMAIL, name=NAME)
    login(client, EMAIL, PASSWORD)
    status, page = _change(client, current, new, confirm)
    assert status == 422
    assert expected in page
    assert "is-invalid" in page
    assert client.get("/account").status_code == 200
    assert not db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.password")
    ).all()
    fresh = client.application.test_client()
    assert login(fresh, EMAIL, PASSWORD).status_code == 302  # the old password still works


def test_the_reason_is_translated_into_arabic(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    make_user(db_session, clock, email=EMAIL, name=NAME)
    login(client, EMAIL, PASSWORD)
    status, page = _change(client, PASSWORD, "password123456", lang="?lang=ar")
    assert status == 422
    assert "كلمة المرور هذه شائعة جدًا" in page


# ---------------------------------------------------------------- the command line
@pytest.fixture
def invoke(fresh_database: TestDatabase, tmp_path: Path) -> Callable[..., Result]:
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)

    return run


def test_cli_refuses_weak_passwords_and_writes_nothing(invoke: Callable[..., Result]) -> None:
    invoke("orgs", "create", "--slug", "min-a", "--name", "A")
    base = ["users", "create", "--email", EMAIL, "--name", NAME, "--role", "reporter"]
    for weak, reason in [
        ("password123456\n", "too common"),
        ("amina.tazi-2026!\n", "must not contain your e-mail address"),
        ("Tazi and the sea\n", "must not contain your name"),
    ]:
        result = invoke(*base, "--org", "min-a", "--password-stdin", stdin=weak)
        assert result.exit_code == 1
        assert f"password: {reason}" in result.output
    assert (
        "no user"
        in invoke("users", "set-password", "--email", EMAIL, "--password-stdin", stdin="x\n").output
    )
    created = invoke(*base, "--org", "min-a", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.exit_code == 0
    refused = invoke(
        "users", "set-password", "--email", EMAIL, "--password-stdin", stdin="Amina2026amina\n"
    )
    assert refused.exit_code == 1 and "password: must not contain your" in refused.output
    assert "user.password" not in invoke("audit").output


# ---------------------------------------------------------------- the administration pages
def _admin_sets(admin: FlaskClient, user_id: int, new: str) -> tuple[int, str]:
    url = f"/admin/users/{user_id}/password"
    page = text(admin.get(url))
    response = admin.post(
        url,
        data={"csrf_token": csrf_token(page), "new_password": new, "confirm_password": new},
    )
    if response.status_code == 302:
        return 302, text(admin.get(response.headers["Location"]))
    return response.status_code, text(response)


def test_the_admin_page_applies_the_policy_and_ends_the_users_sessions(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    admin_user = make_user(db_session, clock, role="admin")
    user = make_user(db_session, clock, email=EMAIL, name=NAME)
    admin, victim = app.test_client(), app.test_client()
    login(admin, admin_user.email, PASSWORD)
    login(victim, EMAIL, PASSWORD)
    assert f'href="/admin/users/{user.id}/password"' in text(admin.get("/admin/users"))
    for weak, reason in [
        ("password123456", "trop courant"),
        ("amina.tazi-2026!", "ne doit pas contenir votre adresse e-mail"),
        ("Tazi and the sea", "ne doit pas contenir votre nom"),
        ("short one", "au moins 12 caractères"),
    ]:
        status, page = _admin_sets(admin, user.id, weak)
        assert (status, reason in page) == (422, True), weak
    assert victim.get("/account").status_code == 200  # nothing changed
    status, page = _admin_sets(admin, user.id, "Tea-kettle 4 moonlit dunes")
    assert status == 302 and "a été modifié" in page
    assert victim.get("/account").status_code == 302
    assert admin.get("/account").status_code == 200
    assert login(app.test_client(), EMAIL, "Tea-kettle 4 moonlit dunes").status_code == 302


def test_only_admins_set_passwords(app: Flask, db_session: Session, clock: FrozenClock) -> None:
    lead = make_user(db_session, clock, role="lead")
    user = make_user(db_session, clock)
    client = app.test_client()
    login(client, lead.email, PASSWORD)
    assert client.get(f"/admin/users/{user.id}/password").status_code == 403
    page = text(client.get("/account"))
    response = client.post(
        f"/admin/users/{user.id}/password",
        data={
            "csrf_token": csrf_token(page),
            "new_password": "x" * 20,
            "confirm_password": "x" * 20,
        },
    )
    assert response.status_code == 403


def test_cli_set_password_and_end_sessions_end_the_users_sessions(
    invoke: Callable[..., Result], fresh_database: TestDatabase
) -> None:
    invoke("orgs", "create", "--slug", "min-a", "--name", "A")
    base = ["users", "create", "--email", EMAIL, "--name", NAME, "--role", "reporter"]
    assert invoke(*base, "--org", "min-a", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    factory = make_session_factory(fresh_database.engine)
    clock = FrozenClock(dt.datetime.now(dt.UTC))

    def open_two() -> None:
        with transaction(factory) as db:
            user = accounts.get_user_by_email(db, EMAIL)
            for _ in range(2):
                start_session(db, user, ip="192.0.2.1", user_agent="x", clock=clock)

    def reasons() -> list[str | None]:
        with factory() as db:
            return sorted(str(r) for r in db.scalars(select(UserSession.ended_reason)))

    open_two()
    result = invoke("users", "end-sessions", "--email", EMAIL)
    assert result.output.strip() == f"ended 2 session(s) of {EMAIL}"
    assert reasons() == ["ended_by_admin"] * 2
    open_two()
    changed = invoke(
        "users", "set-password", "--email", EMAIL, "--password-stdin", stdin="Tea-kettle 4 dunes\n"
    )
    assert changed.exit_code == 0, changed.output
    assert reasons() == ["ended_by_admin"] * 2 + ["password"] * 2
