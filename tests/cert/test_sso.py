"""Single sign-on end to end, on both databases, against a real OpenID Connect provider on
loopback (tests/kit/oidc_provider.py: Authlib's server, its own signing key): the browser's
redirects through the Flask test client and ``requests``, the code exchanged by Vigie over HTTP.
Each forged, replayed or expired answer is refused with a message on the sign-in page."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.models import Organisation, OrganisationKind, Role, User, UserSession
from tests.cert.sso_kit import (
    BASE_URL,
    CALLBACK,
    analyst_at_idp,
    at_provider,
    query,
    sign_in,
    sso_settings,
    start,
    with_param,
)
from tests.kit.factories import PASSWORD, make_org, make_user
from tests.kit.oidc_provider import OidcProvider
from tests.kit.web import login, logout, text

NO_ACCESS = "Your account at ID Gouv gives no access to Vigie: ask your CERT contact."
STATE = "The sign-in could not be verified (state). Please try again."
NONCE = "The sign-in could not be verified (nonce). Please try again."
EXPIRED = "The identity provider&#39;s answer has expired (ID token). Please try again."
INVALID = "The identity provider&#39;s answer could not be verified (ID token). Please try again."


@pytest.fixture
def organisations(db_session: Session, clock: FrozenClock) -> dict[str, Organisation]:
    return {
        "macert": make_org(db_session, clock, slug="macert", kind=OrganisationKind.CERT),
        "min-sante": make_org(db_session, clock, slug="min-sante"),
    }


def _app(
    settings: dict[str, Any], factory: sessionmaker[Session], clock: FrozenClock, **more: Any
) -> Flask:
    return create_app({**settings, **more}, session_factory=factory, clock=clock)


@pytest.fixture
def app(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
    organisations: dict[str, Organisation],
) -> Flask:
    return _app(settings, session_factory, clock, **sso_settings(oidc_provider, tmp_path))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.get("/login?lang=en")  # messages in English (the French and Arabic ones: below)
    return client


def _message(client: FlaskClient) -> str:
    """The sign-in page after a redirect to it: its text (with the flashed message)."""
    return text(client.get("/login"))


def _refused(response: Any, client: FlaskClient, message: str) -> None:
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = _message(client)
    assert message in page, page
    assert client.get("/account").status_code == 302  # not signed in


def _user(db: Session, email: str = "nadia.alaoui@cert.gov.ma") -> User | None:
    return db.scalar(select(User).where(User.email == email))


def _refusals(db: Session) -> list[str]:
    rows = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "sso.refused").order_by(AuditEntry.id)
    )
    return [row.after["reason"] for row in rows]


# ---------------------------------------------------------------- signing in
def test_a_first_sign_in_creates_the_account_with_the_mapped_role(
    client: FlaskClient,
    oidc_provider: OidcProvider,
    db_session: Session,
    organisations: dict[str, Organisation],
) -> None:
    response = sign_in(client, oidc_provider, analyst_at_idp(), next_url="/account")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    page = text(client.get("/account"))
    assert "Nadia Alaoui" in page and "Welcome, Nadia Alaoui." in page
    user = _user(db_session)
    assert user is not None and user.oidc_subject == "idp-7781"
    assert (user.role, user.organisation_id, user.password_hash) == (
        Role.ANALYST,
        organisations["macert"].id,
        None,
    )
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.auth_method == "sso"
    actions = db_session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "user", AuditEntry.object_id == str(user.id))
        .order_by(AuditEntry.id)
    ).all()
    assert list(actions) == ["user.create", "sso.link", "sso.login"]


def test_the_flow_carries_state_nonce_and_pkce(
    client: FlaskClient, oidc_provider: OidcProvider
) -> None:
    oidc_provider.sign_in_as(analyst_at_idp())
    authorize = start(client)
    params = query(authorize)
    assert authorize.startswith(oidc_provider.issuer + "/authorize?")
    assert params["redirect_uri"] == CALLBACK and params["client_id"] == oidc_provider.client_id
    assert params["response_type"] == "code" and params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256" and params["ui_locales"] == "en"
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    response = client.get(at_provider(authorize))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    verifier = oidc_provider.token_requests[-1]["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == params["code_challenge"]
    assert oidc_provider.issued[-1]["nonce"] == params["nonce"]


def test_the_next_sign_in_finds_the_account_by_its_subject(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    sign_in(client, oidc_provider, analyst_at_idp())
    logout(client)
    response = sign_in(client, oidc_provider, analyst_at_idp(email="nadia@elsewhere.gov.ma"))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _user(db_session, "nadia@elsewhere.gov.ma") is None
    assert (
        db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.link"))
        .all()
        .__len__()
        == 1
    )


def test_a_local_account_is_linked_by_its_verified_address(
    client: FlaskClient,
    oidc_provider: OidcProvider,
    db_session: Session,
    clock: FrozenClock,
    organisations: dict[str, Organisation],
) -> None:
    local = make_user(
        db_session,
        clock,
        email="nadia.alaoui@cert.gov.ma",
        org=organisations["macert"],
        role=Role.ANALYST,
    )
    leads = analyst_at_idp(claims={"roles": ["cert-leads"]})
    assert sign_in(client, oidc_provider, leads).headers["Location"] == "/"
    db_session.refresh(local)
    assert local.oidc_subject == "idp-7781" and local.role == Role.LEAD
    link = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.link")).one()
    assert link.object_id == str(local.id) and link.after["created"] is False
    logout(client)
    assert login(client, local.email, PASSWORD).status_code == 302  # local passwords stay on


def test_without_local_passwords_a_linked_account_signs_in_at_the_provider_only(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
    db_session: Session,
    organisations: dict[str, Organisation],
) -> None:
    app = _app(
        settings,
        session_factory,
        clock,
        **sso_settings(oidc_provider, tmp_path, oidc_local_passwords=False),
    )
    client = app.test_client()
    local = make_user(
        db_session,
        clock,
        email="nadia.alaoui@cert.gov.ma",
        org=organisations["macert"],
        role=Role.ANALYST,
    )
    other = make_user(
        db_session, clock, email="local@cert.gov.ma", org=organisations["macert"], role=Role.ANALYST
    )
    sign_in(client, oidc_provider, analyst_at_idp())
    logout(client)
    refused = login(client, local.email, PASSWORD)
    assert refused.status_code == 200 and "Adresse e-mail ou mot de passe incorrect." in text(
        refused
    )
    assert login(client, other.email, PASSWORD).status_code == 302  # not linked: unchanged


# ---------------------------------------------------------------- refusals
def test_an_unverified_address_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    response = sign_in(client, oidc_provider, analyst_at_idp(email_verified=False))
    _refused(response, client, "The identity provider has not verified this e-mail address.")
    oidc_provider.tamper_next_id_token(email_verified=False)
    _refused(sign_in(client, oidc_provider, analyst_at_idp()), client, "has not verified")
    assert _user(db_session) is None
    assert _refusals(db_session) == ["email not verified by the provider"] * 2


def test_a_forged_missing_or_replayed_state_is_refused(
    client: FlaskClient, app: Flask, oidc_provider: OidcProvider, db_session: Session
) -> None:
    oidc_provider.sign_in_as(analyst_at_idp())
    back = at_provider(start(client))
    _refused(client.get(with_param(back, state="forged-state-value")), client, STATE)
    back = at_provider(start(client))
    _refused(client.get(with_param(back, state=None)), client, STATE)
    # the answer meant for another browser (login CSRF): this one never asked for it
    back = at_provider(start(client))
    stranger = app.test_client()
    stranger.get("/login?lang=en")
    _refused(stranger.get(back), stranger, STATE)
    # the real answer works once, then its state is spent
    back = at_provider(start(client))
    assert client.get(back).headers["Location"] == "/"
    logout(client)
    _refused(client.get(back), client, STATE)
    assert _refusals(db_session) == ["state missing or forged"] * 4


@pytest.mark.parametrize("nonce", ["forged", None])
def test_a_wrong_or_missing_nonce_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session, nonce: str | None
) -> None:
    oidc_provider.tamper_next_id_token(nonce=nonce)
    _refused(sign_in(client, oidc_provider, analyst_at_idp()), client, NONCE)
    assert _user(db_session) is None and _refusals(db_session)[0].startswith("ID token nonce")


def test_an_expired_id_token_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    oidc_provider.tamper_next_id_token(exp_offset=-3600)
    _refused(sign_in(client, oidc_provider, analyst_at_idp()), client, EXPIRED)
    assert _refusals(db_session) == ["ID token expired"]


@pytest.mark.parametrize(
    "tampering",
    [
        {"sign_with_foreign_key": True},
        {"aud": "someone-else"},
        {"aud": "someone-else", "azp": None},
        {"iss": "http://127.0.0.1:1"},
        {"azp": "another-client"},
        {"sub": None},
    ],
)
def test_an_id_token_not_meant_for_vigie_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session, tampering: dict[str, Any]
) -> None:
    oidc_provider.tamper_next_id_token(**tampering)
    _refused(sign_in(client, oidc_provider, analyst_at_idp()), client, INVALID)
    assert _user(db_session) is None and _refusals(db_session)[0].startswith("ID token")


def test_an_unknown_role_claim_is_refused_and_a_linked_account_deactivated(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    _refused(
        sign_in(client, oidc_provider, analyst_at_idp(claims={"roles": ["students"]})),
        client,
        NO_ACCESS,
    )
    assert _user(db_session) is None
    sign_in(client, oidc_provider, analyst_at_idp())
    logout(client)
    _refused(sign_in(client, oidc_provider, analyst_at_idp(claims={})), client, NO_ACCESS)
    user = _user(db_session)
    assert user is not None
    db_session.refresh(user)
    assert not user.is_active
    again = sign_in(client, oidc_provider, analyst_at_idp())  # mapped again: still deactivated
    _refused(again, client, "This Vigie account is deactivated: ask your CERT contact.")


def test_an_error_from_the_provider_is_shown_not_raised(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    _refused(
        sign_in(client, oidc_provider, None),
        client,
        "The sign-in was cancelled or refused at ID Gouv.",
    )
    assert _refusals(db_session)[0].startswith("provider error login_required")
    back = at_provider(start(client)).replace("error=login_required", "error=server_error")
    _refused(client.get(back), client, "ID Gouv did not complete the sign-in. Please try again.")


def test_a_code_used_twice_or_invented_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider
) -> None:
    oidc_provider.sign_in_as(analyst_at_idp())
    back = at_provider(start(client))
    _refused(
        client.get(with_param(back, code="invented")),
        client,
        "ID Gouv did not complete the sign-in.",
    )


def test_an_unreachable_provider_is_a_message(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
) -> None:
    sso = sso_settings(oidc_provider, tmp_path, oidc_issuer="http://127.0.0.1:9")  # discard port
    client = _app(settings, session_factory, clock, **sso).test_client()
    client.get("/login?lang=en")
    response = client.get("/login/sso")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "ID Gouv cannot be reached at the moment." in _message(client)
    _refused(client.get("/login/sso/callback?code=x&state=y"), client, "ID Gouv cannot be reached")


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
    client = _app(settings, session_factory, clock, **sso).test_client()
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
    client = _app(settings, session_factory, clock, **sso).test_client()
    response = sign_in(client, oidc_provider, analyst_at_idp(), next_url="/account")
    assert response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200


# ---------------------------------------------------------------- logging out
def test_logout_ends_the_providers_session_too(
    client: FlaskClient, oidc_provider: OidcProvider
) -> None:
    sign_in(client, oidc_provider, analyst_at_idp())
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
    client = _app(settings, session_factory, clock).test_client()
    assert "/login/sso" not in text(client.get("/login"))
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
