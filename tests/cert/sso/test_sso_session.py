"""Single sign-on around the flow: an unreachable provider, ``next``, the rate limit, the second
factor, logging out at the provider, the sign-in page in three languages, and the settings that
stop start-up (the app factory, ``cert`` commands), against the loopback provider."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.cli import cli, load_commands
from core.audit import AuditEntry
from core.clock import FrozenClock
from core.config import ConfigError
from core.identity.models import Organisation, OrganisationKind, Role, User
from tests.cert.sso.kit import (
    BASE_URL,
    analyst_at_idp,
    make_app,
    message,
    query,
    refused,
    sign_in,
    sso_settings,
)
from tests.dbs import TestDatabase
from tests.kit.factories import PASSWORD, make_org, make_user
from tests.kit.oidc_provider import OidcProvider
from tests.kit.web import csrf_token, login, logout, text


def test_an_unreachable_provider_is_amessage(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
) -> None:
    sso = sso_settings(oidc_provider, tmp_path, oidc_issuer="http://127.0.0.1:9")  # discard port
    client = make_app(settings, session_factory, clock, **sso).test_client()
    client.get("/login?lang=en")
    response = client.get("/login/sso")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "ID Gouv cannot be reached at the moment." in message(client)
    refused(client.get("/login/sso/callback?code=x&state=y"), client, "ID Gouv cannot be reached")


def test_next_stays_on_this_site(client: FlaskClient, oidc_provider: OidcProvider) -> None:
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        response = sign_in(client, oidc_provider, analyst_at_idp(), next_url=target)
        assert response.headers["Location"] == "/"
        logout(client)
    assert client.get("/login/sso?next=/account").status_code == 302
    sign_in(client, oidc_provider, analyst_at_idp(), next_url="/account")
    assert client.get("/login/sso?next=/account").headers["Location"] == "/account"  # signed in


def test_the_callback_is_rate_limited_like_the_login(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
) -> None:
    sso = sso_settings(oidc_provider, tmp_path, login_rate_limit="3 per minute")
    client = make_app(settings, session_factory, clock, **sso).test_client()
    codes = [client.get("/login/sso/callback?code=x&state=y").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]


def test_the_second_factor_is_the_providers(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
    organisations: dict[str, Organisation],
) -> None:
    sso = sso_settings(oidc_provider, tmp_path, mfa_required_roles="analyst,lead,admin")
    client = make_app(settings, session_factory, clock, **sso).test_client()
    response = sign_in(client, oidc_provider, analyst_at_idp(), next_url="/account")
    assert response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200


# ---------------------------------------------------------------- logging out
def test_logout_ends_the_providers_session_too(
    client: FlaskClient, oidc_provider: OidcProvider
) -> None:
    sign_in(client, oidc_provider, analyst_at_idp())
    # the sign-out form may be redirected to the provider (CSP form-action covers redirects)
    policy = client.get("/account").headers["Content-Security-Policy"]
    assert f"form-action 'self' {oidc_provider.issuer};" in policy
    response = logout(client)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(oidc_provider.issuer + "/logout?")
    params = query(location)
    assert params["post_logout_redirect_uri"] == BASE_URL + "/login"
    assert params["client_id"] == oidc_provider.client_id
    payload = params["id_token_hint"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["nonce"] == oidc_provider.issued[-1]["nonce"]  # the ID token of this sign-in
    assert client.get("/account").status_code == 302  # Vigie's session ended first
    answer = requests.get(location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(BASE_URL + "/login")
    assert oidc_provider.logouts[-1]["id_token_hint"] == params["id_token_hint"]


def test_a_password_session_logs_out_of_vigie_only(
    client: FlaskClient,
    oidc_provider: OidcProvider,
    db_session: Session,
    clock: FrozenClock,
    organisations: dict[str, Organisation],
) -> None:
    user = make_user(db_session, clock, org=organisations["macert"], role=Role.ANALYST)
    login(client, user.email, PASSWORD)
    assert logout(client).headers["Location"] == "/login"
    assert oidc_provider.logouts == []


# ---------------------------------------------------------------- the page and the settings
@pytest.mark.parametrize(
    ("lang", "label"),
    [
        ("fr", "Se connecter avec ID Gouv"),
        ("ar", "تسجيل الدخول عبر ID Gouv"),
        ("en", "Sign in with ID Gouv"),
    ],
)
def test_the_login_page_offers_the_provider_in_the_users_language(
    client: FlaskClient, lang: str, label: str
) -> None:
    page = text(client.get(f"/login?lang={lang}&next=/account"))
    assert label in page and 'href="/login/sso?next=/account"' in page


def test_without_single_sign_on_there_is_no_button_and_no_route(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    client = make_app(settings, session_factory, clock).test_client()
    page = client.get("/login")
    assert "/login/sso" not in text(page)
    assert "form-action 'self';" in page.headers["Content-Security-Policy"]
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"oidc_client_id": ""}, "CERT_OIDC_CLIENT_ID: required when CERT_OIDC_ISSUER is set"),
        ({"oidc_client_secret_file": None}, "CERT_OIDC_CLIENT_SECRET_FILE: required"),
        (
            {"oidc_client_secret_file": Path("/no/such/secret")},
            "CERT_OIDC_CLIENT_SECRET_FILE: cannot read",
        ),
        ({"oidc_role_map": ""}, "CERT_OIDC_ROLE_MAP: required"),
        ({"oidc_role_map": "soc=boss@macert"}, "CERT_OIDC_ROLE_MAP: unknown role 'boss'"),
        ({"oidc_issuer": "http://idp.example.ma"}, "CERT_OIDC_ISSUER: must use https://"),
        ({"oidc_scopes": "email"}, "CERT_OIDC_SCOPES: must include openid"),
        ({"oidc_issuer": ""}, "CERT_OIDC_ISSUER: required when CERT_OIDC_CLIENT_ID is set"),
    ],
)
def test_a_bad_setting_stops_the_app_factory_naming_it(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
    changes: dict[str, Any],
    error: str,
) -> None:
    sso = {**sso_settings(oidc_provider, tmp_path), **changes}
    with pytest.raises(ConfigError) as err:
        make_app(settings, session_factory, clock, **sso)
    assert str(err.value).startswith(error), err.value


def _cert(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cert = Path(sys.executable).parent / "cert"
    return subprocess.run(  # noqa: S603 (our own command)
        [str(cert), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_bad_setting_stops_cert_commands(tmp_path: Path) -> None:
    env = {
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_OIDC_ISSUER": "https://idp.example.ma/realms/gov",
        "CERT_OIDC_CLIENT_ID": "vigie",
        "CERT_OIDC_ROLE_MAP": "soc=analyst@macert",
    }
    result = _cert("db", "current", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: CERT_OIDC_CLIENT_SECRET_FILE: required when CERT_OIDC_ISSUER is set"
    )


def test_the_web_server_checks_the_organisations_of_the_role_map(
    tmp_path: Path, fresh_database: TestDatabase
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n", encoding="utf-8")
    env = {
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SECRET_KEY": "k" * 40,
        "CERT_OIDC_ISSUER": "https://idp.example.ma/realms/gov",
        "CERT_OIDC_CLIENT_ID": "vigie",
        "CERT_OIDC_CLIENT_SECRET_FILE": str(secret),
        "CERT_OIDC_ROLE_MAP": "soc=analyst@macert,sante=reporter@min-sante",
    }
    result = _cert("run", "--no-scheduler", "--port", "1", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "configuration error: CERT_OIDC_ROLE_MAP: unknown organisation(s) macert, min-sante "
        "(create them, or fix the map)"
    )


def test_without_an_end_session_endpoint_logout_stays_at_vigie(
    client: FlaskClient, oidc_provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    metadata = oidc_provider.metadata()
    del metadata["end_session_endpoint"]
    monkeypatch.setattr(oidc_provider, "metadata", lambda: metadata)
    sign_in(client, oidc_provider, analyst_at_idp())
    response = logout(client)
    assert response.headers["Location"] == "/login" and oidc_provider.logouts == []
    assert client.get("/account").status_code == 302


load_commands()


def test_cert_users_sso_unlink(tmp_path: Path, fresh_database: TestDatabase) -> None:
    clock = FrozenClock()
    with Session(fresh_database.engine) as db:
        org = make_org(db, clock, slug="macert", kind=OrganisationKind.CERT)
        user = make_user(db, clock, role=Role.ANALYST, org=org, email="nadia@cert.gov.ma")
        user.oidc_subject, user.password_login = "idp-1", False
        db.commit()
    env = {
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_SECRET_KEY": "k" * 40,
    }
    runner = CliRunner()
    result = runner.invoke(cli, ["users", "sso-unlink", "--email", "Nadia@cert.gov.ma"], env=env)
    assert (result.exit_code, result.output) == (0, "nadia@cert.gov.ma unlinked\n")
    result = runner.invoke(cli, ["users", "sso-unlink", "--email", "nadia@cert.gov.ma"], env=env)
    assert result.output == "nadia@cert.gov.ma was not linked\n"
    with Session(fresh_database.engine) as db:
        stored = db.scalars(select(User)).one()
        assert (stored.oidc_subject, stored.password_login) == (None, True)
        actions = db.scalars(select(AuditEntry.action).where(AuditEntry.action == "sso.unlink"))
        assert list(actions) == ["sso.unlink"]


def test_the_discovery_document_must_name_the_issuer_and_is_read_again_daily(
    app: Flask, client: FlaskClient, oidc_provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    genuine = oidc_provider.metadata()
    monkeypatch.setattr(oidc_provider, "metadata", lambda: {**genuine, "issuer": "http://evil"})
    response = client.get("/login/sso")
    assert response.headers["Location"] == "/login"
    assert "ID Gouv cannot be reached at the moment." in message(client)
    monkeypatch.setattr(
        oidc_provider, "metadata", lambda: genuine
    )  # the provider fixed: read again
    assert client.get("/login/sso").headers["Location"].startswith(oidc_provider.issuer)
    cached = app.extensions["vigie_sso"][1].server_metadata
    moved = {**genuine, "authorization_endpoint": oidc_provider.issuer + "/moved"}
    monkeypatch.setattr(oidc_provider, "metadata", lambda: moved)
    assert "/authorize?" in client.get("/login/sso").headers["Location"]  # still the cached one
    cached["_loaded_at"] -= 24 * 3600 + 1
    assert "/moved?" in client.get("/login/sso").headers["Location"]  # a day later: read again


def test_an_administrator_sees_the_link_and_removes_it(
    client: FlaskClient,
    oidc_provider: OidcProvider,
    db_session: Session,
    clock: FrozenClock,
    organisations: dict[str, Organisation],
) -> None:
    sign_in(client, oidc_provider, analyst_at_idp())
    linked = db_session.scalars(select(User).where(User.oidc_subject == "idp-7781")).one()
    logout(client)
    admin = make_user(db_session, clock, role=Role.ADMIN, org=organisations["macert"])
    login(client, admin.email, PASSWORD)
    page = text(client.get(f"/admin/users/{linked.id}"))
    assert "Linked to ID Gouv" in page and "Unlink from the identity provider" in page
    assert "Linked to" not in text(client.get(f"/admin/users/{admin.id}"))
    token = csrf_token(page)
    assert client.post(f"/admin/users/{linked.id}/sso-unlink").status_code == 400  # no CSRF token
    response = client.post(f"/admin/users/{linked.id}/sso-unlink", data={"csrf_token": token})
    assert response.headers["Location"] == f"/admin/users/{linked.id}"
    page = text(client.get(response.headers["Location"]))
    assert "is no longer linked to the identity provider" in page and "Linked to" not in page
    db_session.refresh(linked)
    assert linked.oidc_subject is None
    logout(client)
    # not an administrator: refused
    analyst = make_user(db_session, clock, role=Role.ANALYST, org=organisations["macert"])
    login(client, analyst.email, PASSWORD)
    token = csrf_token(text(client.get("/account")))
    forbidden = client.post(f"/admin/users/{linked.id}/sso-unlink", data={"csrf_token": token})
    assert forbidden.status_code == 403
