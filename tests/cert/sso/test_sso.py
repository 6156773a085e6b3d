"""Single sign-on end to end, on both databases, against a real OpenID Connect provider on
loopback (tests/kit/oidc_provider.py: Authlib's server, its own signing key): the browser's
redirects through the Flask test client and ``requests``, the code exchanged by Vigie over HTTP.
Each forged, replayed or expired answer is refused with a message on the sign-in page."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.models import Organisation, Role, UserSession
from tests.cert.sso import kit as sso_kit
from tests.cert.sso.kit import (
    CALLBACK,
    EXPIRED,
    INVALID,
    NO_ACCESS,
    NONCE,
    STATE,
    analyst_at_idp,
    at_provider,
    make_app,
    query,
    refusals,
    refused,
    sign_in,
    sso_settings,
    start,
    user_named,
    with_param,
)
from tests.kit.factories import PASSWORD, make_user
from tests.kit.oidc_provider import OidcProvider
from tests.kit.web import login, logout, text


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
    user = user_named(db_session)
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
    assert user_named(db_session, "nadia@elsewhere.gov.ma") is None
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
    app = make_app(
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
    refused(response, client, "The identity provider has not verified this e-mail address.")
    oidc_provider.tamper_next_id_token(email_verified=False)
    refused(sign_in(client, oidc_provider, analyst_at_idp()), client, "has not verified")
    assert user_named(db_session) is None
    assert refusals(db_session) == ["email not verified by the provider"] * 2


def test_a_forged_missing_or_replayed_state_is_refused(
    client: FlaskClient, app: Flask, oidc_provider: OidcProvider, db_session: Session
) -> None:
    oidc_provider.sign_in_as(analyst_at_idp())
    back = at_provider(start(client))
    refused(client.get(with_param(back, state="forged-state-value")), client, STATE)
    back = at_provider(start(client))
    refused(client.get(with_param(back, state=None)), client, STATE)
    # the answer meant for another browser (login CSRF): this one never asked for it
    back = at_provider(start(client))
    stranger = app.test_client()
    stranger.get("/login?lang=en")
    refused(stranger.get(back), stranger, STATE)
    # the real answer works once, then its state is spent
    back = at_provider(start(client))
    assert client.get(back).headers["Location"] == "/"
    logout(client)
    refused(client.get(back), client, STATE)
    assert refusals(db_session) == ["state missing or forged"] * 4


@pytest.mark.parametrize("nonce", ["forged", None])
def test_a_wrong_or_missing_nonce_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session, nonce: str | None
) -> None:
    oidc_provider.tamper_next_id_token(nonce=nonce)
    refused(sign_in(client, oidc_provider, analyst_at_idp()), client, NONCE)
    assert user_named(db_session) is None and refusals(db_session)[0].startswith("ID token nonce")


def test_an_expired_id_token_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    oidc_provider.tamper_next_id_token(exp_offset=-3600)
    refused(sign_in(client, oidc_provider, analyst_at_idp()), client, EXPIRED)
    assert refusals(db_session) == ["ID token expired"]


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
    refused(sign_in(client, oidc_provider, analyst_at_idp()), client, INVALID)
    assert user_named(db_session) is None and refusals(db_session)[0].startswith("ID token")


def test_an_unknown_role_claim_is_refused_and_a_linked_account_deactivated(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    refused(
        sign_in(client, oidc_provider, analyst_at_idp(claims={"roles": ["students"]})),
        client,
        NO_ACCESS,
    )
    assert user_named(db_session) is None
    sign_in(client, oidc_provider, analyst_at_idp())
    logout(client)
    refused(sign_in(client, oidc_provider, analyst_at_idp(claims={})), client, NO_ACCESS)
    user = user_named(db_session)
    assert user is not None
    db_session.refresh(user)
    assert not user.is_active
    again = sign_in(client, oidc_provider, analyst_at_idp())  # mapped again: still deactivated
    refused(again, client, "This Vigie account is deactivated: ask your CERT contact.")


def test_an_error_from_the_provider_is_shown_not_raised(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    refused(
        sign_in(client, oidc_provider, None),
        client,
        "The sign-in was cancelled or refused at ID Gouv.",
    )
    assert refusals(db_session)[0].startswith("provider error login_required")
    back = at_provider(start(client)).replace("error=login_required", "error=server_error")
    refused(client.get(back), client, "ID Gouv did not complete the sign-in. Please try again.")


def test_a_code_used_twice_invented_or_from_another_flow_is_refused(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    failed = "ID Gouv did not complete the sign-in. Please try again."
    oidc_provider.sign_in_as(analyst_at_idp())
    back = at_provider(start(client))
    refused(client.get(with_param(back, code="invented")), client, failed)
    # a code meant for one flow (its PKCE challenge) presented with another flow's state: the
    # provider refuses the other flow's code_verifier (an intercepted code is worthless)
    intercepted = at_provider(start(client))
    other_state = query(start(client))["state"]
    refused(client.get(with_param(intercepted, state=other_state)), client, failed)
    assert "code_verifier" in oidc_provider.token_requests[-1]
    # a code already exchanged, replayed with a fresh state
    used = at_provider(start(client))
    assert client.get(used).headers["Location"] == "/"
    logout(client)
    fresh_state = query(start(client))["state"]
    refused(client.get(with_param(used, state=fresh_state)), client, failed)
    assert [reason.split(":")[0] for reason in refusals(db_session)] == [
        "provider error invalid_grant"
    ] * 3


def test_flows_started_and_abandoned_do_not_swell_the_cookie(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    oidc_provider: OidcProvider,
    tmp_path: Path,
    organisations: dict[str, Organisation],
) -> None:
    sso = sso_settings(oidc_provider, tmp_path, login_rate_limit="100 per minute")
    client = sso_kit.english_client(make_app(settings, session_factory, clock, **sso))
    for _ in range(30):
        start(client)
    cookie = client.get_cookie("vigie_session")
    assert cookie is not None and len(cookie.value) < 1500
    oidc_provider.sign_in_as(analyst_at_idp())
    earlier = at_provider(start(client))
    latest = at_provider(start(client))
    refused(client.get(earlier), client, STATE)  # only the latest flow stays open
    assert client.get(latest).headers["Location"] == "/"


def test_claims_missing_from_the_id_token_are_read_at_the_userinfo_endpoint(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    oidc_provider.tamper_next_id_token(roles=None, email=None, email_verified=None)
    response = sign_in(client, oidc_provider, analyst_at_idp(claims={"roles": ["cert-leads"]}))
    assert response.headers["Location"] == "/"
    user = user_named(db_session)
    assert user is not None and user.role == Role.LEAD
    assert "roles" not in oidc_provider.issued[-1] and "email" not in oidc_provider.issued[-1]


def test_the_providers_words_reach_the_audit_log_on_one_line(
    client: FlaskClient, oidc_provider: OidcProvider, db_session: Session
) -> None:
    oidc_provider.sign_in_as(analyst_at_idp())
    back = at_provider(start(client))
    forged = with_param(back, error="access_denied", error_description="no\nFAKE LOG LINE\r\x1b[0m")
    refused(client.get(forged), client, "The sign-in was cancelled or refused at ID Gouv.")
    (reason,) = refusals(db_session)
    assert reason == "provider error access_denied: no FAKE LOG LINE  [0m"
