"""The test OpenID Connect provider itself, driven over real HTTP with plain ``requests``."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from tests.kit.oidc_provider import OidcProvider, OidcUser, running_oidc_provider
from tests.kit.threads import in_parallel

CALLBACK = "http://127.0.0.1:5000/login/sso/callback"
SIGNED_OUT = "http://127.0.0.1:5000/login"
ANALYST = OidcUser("sub-analyst-1", "analyst@cert.test", "Ana Lyst", claims={"roles": ["analysts"]})


@pytest.fixture
def provider(oidc_provider: OidcProvider) -> OidcProvider:
    oidc_provider.register_redirect(CALLBACK)
    oidc_provider.register_redirect(SIGNED_OUT)
    oidc_provider.sign_in_as(ANALYST)
    return oidc_provider


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    http: requests.Session, provider: OidcProvider, **changes: str | None
) -> requests.Response:
    """One authorization request (no redirect followed); ``None`` leaves a parameter out."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": challenge("v" * 43),
        "code_challenge_method": "S256",
        **changes,
    }
    sent = {name: value for name, value in params.items() if value is not None}
    return http.get(provider.issuer + "/authorize", params=sent, allow_redirects=False)


def redirected(response: requests.Response, to: str = CALLBACK) -> dict[str, str]:
    """The query of a redirect to ``to`` (fails on anything else)."""
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == to
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def exchange(
    http: requests.Session, provider: OidcProvider, code: str, verifier: str = "v" * 43
) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    return http.post(
        provider.issuer + "/token", data=form, auth=(provider.client_id, provider.client_secret)
    )


def sign_in(http: requests.Session, provider: OidcProvider) -> dict[str, Any]:
    """A whole code flow; the token response."""
    answer = redirected(authorize(http, provider))
    response = exchange(http, provider, answer["code"])
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def verified_claims(http: requests.Session, provider: OidcProvider, id_token: str) -> Any:
    metadata = http.get(provider.issuer + "/.well-known/openid-configuration").json()
    keys = KeySet.import_key_set(http.get(metadata["jwks_uri"]).json())
    return jwt.decode(id_token, keys, algorithms=["RS256"]).claims


# ---------------------------------------------------------------- discovery and keys
def test_discovery_document_names_every_endpoint_under_the_issuer(
    provider: OidcProvider, http: requests.Session
) -> None:
    assert provider.issuer.startswith("http://127.0.0.1:") and not provider.issuer.endswith("/")
    response = http.get(provider.issuer + "/.well-known/openid-configuration")
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["issuer"] == provider.issuer
    for name in ("authorization", "token", "userinfo", "end_session"):
        assert metadata[f"{name}_endpoint"].startswith(provider.issuer + "/")
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["subject_types_supported"] == ["public"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    jwks = http.get(metadata["jwks_uri"]).json()
    [key] = jwks["keys"]
    assert key["kty"] == "RSA" and key["kid"] and "d" not in key  # public half only


# ---------------------------------------------------------------- the code flow
def test_code_flow_with_pkce_issues_a_signed_id_token_with_the_user_claims(
    provider: OidcProvider, http: requests.Session
) -> None:
    answer = redirected(authorize(http, provider))
    assert answer["state"] == "state-1" and answer["code"]
    response = exchange(http, provider, answer["code"])
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["access_token"]

    claims = verified_claims(http, provider, tokens["id_token"])
    now = time.time()
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == claims["azp"] == provider.client_id
    assert claims["nonce"] == "nonce-1"
    assert (claims["sub"], claims["email"], claims["name"]) == (
        "sub-analyst-1",
        "analyst@cert.test",
        "Ana Lyst",
    )
    assert claims["email_verified"] is True and claims["roles"] == ["analysts"]
    assert claims["iat"] <= now < claims["exp"] and claims["auth_time"] <= now
    assert provider.issued == [claims]
    assert provider.token_requests[0]["code_verifier"] == "v" * 43

    userinfo = http.get(
        provider.issuer + "/userinfo",
        headers={"Authorization": "Bearer " + tokens["access_token"]},
    )
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == "sub-analyst-1"
    refused = http.get(provider.issuer + "/userinfo", headers={"Authorization": "Bearer forged"})
    assert refused.status_code == 401


def test_client_secret_post_is_accepted_and_a_wrong_secret_is_not(
    provider: OidcProvider, http: requests.Session
) -> None:
    form = {"grant_type": "authorization_code", "redirect_uri": CALLBACK}
    form |= {"code_verifier": "v" * 43, "client_id": provider.client_id}
    code = redirected(authorize(http, provider))["code"]
    wrong = http.post(provider.issuer + "/token", data={**form, "code": code, "client_secret": "x"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    code = redirected(authorize(http, provider, nonce="nonce-2"))["code"]
    right = {**form, "code": code, "client_secret": provider.client_secret}
    assert http.post(provider.issuer + "/token", data=right).status_code == 200


def test_a_wrong_code_verifier_is_refused_and_burns_the_code(
    provider: OidcProvider, http: requests.Session
) -> None:
    code = redirected(authorize(http, provider))["code"]
    wrong = exchange(http, provider, code, verifier="w" * 43)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert exchange(http, provider, code).json()["error"] == "invalid_grant"
    assert provider.issued == []


def test_a_code_is_good_for_one_exchange_only(
    provider: OidcProvider, http: requests.Session
) -> None:
    code = redirected(authorize(http, provider))["code"]
    assert exchange(http, provider, code).status_code == 200
    replay = exchange(http, provider, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_racing_exchanges_of_one_code_yield_one_token(
    provider: OidcProvider, http: requests.Session
) -> None:
    code = redirected(authorize(http, provider))["code"]

    def race(_: int) -> int:
        with requests.Session() as http:
            return exchange(http, provider, code).status_code

    assert sorted(in_parallel(8, race)) == [200] + [400] * 7
    assert len(provider.issued) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"code_challenge": None, "code_challenge_method": None},  # no PKCE at all
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"nonce": None},
        {"response_type": "token"},
    ],
)
def test_requests_without_s256_pkce_or_nonce_are_sent_back_with_an_error(
    provider: OidcProvider, http: requests.Session, changes: dict[str, str | None]
) -> None:
    answer = redirected(authorize(http, provider, **changes))
    assert answer["error"] in {"invalid_request", "unsupported_response_type"}
    assert answer["state"] == "state-1" and "code" not in answer


@pytest.mark.parametrize(
    "changes", [{"redirect_uri": "http://evil.test/cb"}, {"redirect_uri": None}, {"client_id": "x"}]
)
def test_an_unregistered_redirect_or_client_gets_a_400_never_a_redirect(
    provider: OidcProvider, http: requests.Session, changes: dict[str, str | None]
) -> None:
    response = authorize(http, provider, **changes)
    assert response.status_code in {400, 401} and "Location" not in response.headers


def test_nobody_signed_in_answers_login_required(
    provider: OidcProvider, http: requests.Session
) -> None:
    provider.sign_in_as(None)
    answer = redirected(authorize(http, provider))
    assert answer == {"error": "login_required", "state": "state-1"}


# ---------------------------------------------------------------- tampering (one shot)
def test_tampered_claims_apply_to_the_next_id_token_only(
    provider: OidcProvider, http: requests.Session
) -> None:
    provider.tamper_next_id_token(nonce="forged", roles=["cert-nobody"], email_verified=False)
    tampered = verified_claims(http, provider, sign_in(http, provider)["id_token"])
    assert tampered["nonce"] == "forged" and tampered["roles"] == ["cert-nobody"]
    assert tampered["email_verified"] is False
    provider.tamper_next_id_token(iss="http://evil.test", aud="someone-else", name=None)
    other = verified_claims(http, provider, sign_in(http, provider)["id_token"])
    assert (other["iss"], other["aud"]) == ("http://evil.test", "someone-else")
    assert "name" not in other
    plain = verified_claims(http, provider, sign_in(http, provider)["id_token"])
    assert plain["nonce"] == "nonce-1" and plain["roles"] == ["analysts"]
    assert plain["iss"] == provider.issuer and plain["name"] == "Ana Lyst"
    assert provider.issued[0] == tampered and len(provider.issued) == 3


def test_exp_offset_issues_an_expired_id_token(
    provider: OidcProvider, http: requests.Session
) -> None:
    provider.tamper_next_id_token(exp_offset=-3600)
    claims = verified_claims(http, provider, sign_in(http, provider)["id_token"])
    assert claims["exp"] <= time.time() - 3599 and claims["iat"] < claims["exp"]
    with pytest.raises(ExpiredTokenError):
        jwt.JWTClaimsRegistry(leeway=120).validate(claims)


def test_a_foreign_key_signature_fails_against_the_published_keys(
    provider: OidcProvider, http: requests.Session
) -> None:
    provider.tamper_next_id_token(sign_with_foreign_key=True)
    id_token = sign_in(http, provider)["id_token"]
    published = provider.jwks["keys"][0]["kid"]
    header = extract_compact(id_token.encode()).headers()  # same kid: only the signature betrays it
    assert header["kid"] == published
    with pytest.raises(BadSignatureError):
        verified_claims(http, provider, id_token)
    verified_claims(http, provider, sign_in(http, provider)["id_token"])  # one shot


# ---------------------------------------------------------------- RP-initiated logout
def test_end_session_redirects_to_a_registered_uri_with_the_state(
    provider: OidcProvider, http: requests.Session
) -> None:
    id_token = sign_in(http, provider)["id_token"]
    call = {"id_token_hint": id_token, "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"}
    response = http.get(provider.issuer + "/logout", params=call, allow_redirects=False)
    assert redirected(response, to=SIGNED_OUT) == {"state": "bye"}
    assert provider.logouts == [call]


def test_end_session_never_redirects_to_an_unregistered_uri_or_on_a_forged_hint(
    provider: OidcProvider, http: requests.Session
) -> None:
    id_token = sign_in(http, provider)["id_token"]
    elsewhere = {"id_token_hint": id_token, "post_logout_redirect_uri": "http://evil.test/"}
    response = http.get(provider.issuer + "/logout", params=elsewhere, allow_redirects=False)
    assert response.status_code == 200 and "Location" not in response.headers
    provider.tamper_next_id_token(sign_with_foreign_key=True)
    forged = {"id_token_hint": sign_in(http, provider)["id_token"]}
    forged["post_logout_redirect_uri"] = SIGNED_OUT
    response = http.get(provider.issuer + "/logout", params=forged, allow_redirects=False)
    assert response.status_code == 400 and "Location" not in response.headers
    assert provider.logouts == [elsewhere, forged]


# ---------------------------------------------------------------- the harness
def test_reset_forgets_everything_and_stop_closes_the_port(http: requests.Session) -> None:
    with running_oidc_provider() as provider:
        provider.register_redirect(CALLBACK)
        provider.sign_in_as(ANALYST)
        provider.tamper_next_id_token(nonce="forged")
        sign_in(http, provider)
        provider.reset()
        assert (provider.issued, provider.token_requests, provider.logouts) == ([], [], [])
        response = authorize(http, provider)
        assert response.status_code == 400  # the redirect URI is forgotten too
        issuer = provider.issuer
    with pytest.raises(requests.ConnectionError):
        requests.get(issuer + "/jwks", timeout=5)


def test_each_provider_has_its_own_key_and_secret() -> None:
    with running_oidc_provider() as one, running_oidc_provider() as two:
        assert one.issuer != two.issuer and one.client_secret != two.client_secret
        assert one.jwks != two.jwks
    assert one.client_id == two.client_id == "vigie"
