"""A real OpenID Connect provider for tests, on loopback, built on Authlib's server components.

It is not a mock of the client: it is a small Flask app served by werkzeug in a thread with
Authlib's :class:`AuthorizationServer`, the authorization code grant with the OpenID Connect
extension (:class:`OpenIDCode`, nonce required) and PKCE (S256 only, a challenge is required on
every authorization request), RP-initiated logout 1.0 (Authlib's :class:`EndSessionEndpoint`),
its own RSA signing key (with a ``kid``, published at ``/jwks``) and a discovery document.

There is no login page: :meth:`OidcProvider.sign_in_as` chooses who the authorize endpoint
authenticates (``None`` → ``error=login_required`` sent to the redirect URI).
:meth:`OidcProvider.tamper_next_id_token` changes the next ID token issued (one shot):

* any claim: ``nonce="forged"``, ``iss=...``, ``aud=...``, ``email_verified=False``,
  ``roles=[...]``; ``None`` removes the claim (``nonce=None``: no nonce at all);
* ``exp_offset=-3600``: ``exp`` is now + offset (``iat`` and ``auth_time`` five minutes before);
* ``sign_with_foreign_key=True``: signed by another RSA key that carries the SAME ``kid`` as the
  published key (so only the signature check can refuse it, as with a real forgery).

ID tokens carry iss, sub, aud (the client id, a string), azp, exp, iat, auth_time, nonce, at_hash,
email, email_verified, name and the user's extra claims. Beware: Authlib's client checks ``aud``
only through ``azp`` by default, so ``aud="other"`` (with the default azp) is ACCEPTED unless the
client passes ``claims_options`` naming ``iss`` and ``aud`` (``azp=None`` drops azp).

Authorization codes are single use (taken out of storage on the first token request, whatever
its outcome) and live 60 seconds. Everything is kept in memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError
from authlib.oidc.core.util import create_half_hash
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.kit.oidc_authlib import (
    SCOPES,
    Client,
    Code,
    CodeGrant,
    EndSession,
    OpenIDCodeExtension,
    S256Required,
    Server,
)

ID_TOKEN_LIFETIME = 300


@dataclass
class OidcUser:
    sub: str
    email: str
    name: str = "Test User"
    email_verified: bool = True
    claims: dict[str, Any] = field(default_factory=dict)  # extra claims, e.g. {"roles": [...]}

    def info(self) -> dict[str, Any]:
        """The claims about this user (ID token and userinfo)."""
        return {
            "sub": self.sub,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
            **self.claims,
        }


class OidcProvider:
    """The provider's state and knobs; :func:`running_oidc_provider` serves it."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.client_id = "vigie"
        self.client_secret = secrets.token_urlsafe(24)
        self.issued: list[dict[str, Any]] = []
        self.logouts: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._client = Client(self.client_id, self.client_secret)
        self._key = RSAKey.generate_key(
            2048, parameters={"kid": "vigie-test-" + secrets.token_hex(4), "use": "sig"}
        )
        self._foreign_key: RSAKey | None = None
        self._user: OidcUser | None = None
        self._tamper: dict[str, Any] = {}
        self._codes: dict[str, Code] = {}
        self._access_tokens: dict[str, tuple[OidcUser, str, float]] = {}
        self._lock = threading.Lock()
        self.app = self._build_app()

    # ---------------------------------------------------------------- knobs for the tests
    def register_redirect(self, uri: str) -> None:
        """Allow ``uri`` as redirect_uri and post_logout_redirect_uri."""
        if uri not in self._client.redirect_uris:
            self._client.redirect_uris.append(uri)

    def sign_in_as(self, user: OidcUser | None) -> None:
        self._user = user

    def tamper_next_id_token(self, **changes: Any) -> None:
        self._tamper.update(changes)

    def reset(self) -> None:
        """Forget the user, the tampering, the redirects, the codes and the records."""
        self._user = None
        self._tamper = {}
        self._client.redirect_uris.clear()
        self._codes.clear()
        self._access_tokens.clear()
        self.issued.clear()
        self.logouts.clear()
        self.token_requests.clear()

    @property
    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self._key]).as_dict(private=False))

    # ---------------------------------------------------------------- ID tokens
    def _id_token(self, code: Code, access_token: str) -> str:
        with self._lock:
            tamper, self._tamper = self._tamper, {}
        now = int(time.time())
        exp = now + int(tamper.pop("exp_offset", ID_TOKEN_LIFETIME))
        iat = min(now, exp - ID_TOKEN_LIFETIME)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,  # as Keycloak and Google do
            "exp": exp,
            "iat": iat,
            "auth_time": min(code.auth_time, iat),
            "nonce": code.nonce,
            "at_hash": create_half_hash(access_token, "RS256").decode(),
            **code.user.info(),
        }
        key = self._key
        if tamper.pop("sign_with_foreign_key", False):
            if self._foreign_key is None:
                self._foreign_key = RSAKey.generate_key(
                    2048, parameters={"kid": str(self._key.kid)}
                )
            key = self._foreign_key
        claims.update(tamper)
        claims = {name: value for name, value in claims.items() if value is not None}
        self.issued.append(claims)
        token: str = jwt.encode({"alg": "RS256", "kid": self._key.kid}, claims, key)
        return token

    # ---------------------------------------------------------------- the web app
    def _save_token(self, token: dict[str, Any], req: Any) -> None:
        expires = time.time() + float(token.get("expires_in", 3600))
        self._access_tokens[token["access_token"]] = (req.user, token["scope"], expires)

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 3600}
        server = Server(app, query_client=self._query_client, save_token=self._save_token)
        server.provider = self
        server.register_grant(CodeGrant, [S256Required(required=True), OpenIDCodeExtension(self)])
        server.register_endpoint(EndSession)
        self._server = server
        get, post = ["GET"], ["POST"]
        routes = [
            ("/.well-known/openid-configuration", "discovery", get, self._discovery),
            ("/jwks", "jwks", get, lambda: jsonify(self.jwks)),
            ("/authorize", "authorize", get, self._authorize),
            ("/token", "token", post, self._issue_token),
            ("/userinfo", "userinfo", get, self._userinfo),
            ("/logout", "end_session", get + post, self._end_session),
        ]
        for rule, name, methods, view in routes:
            app.add_url_rule(rule, name, view, methods=methods)
        return app

    def _discovery(self) -> Any:
        return jsonify(self.metadata())

    def _authorize(self) -> Any:
        server, user = self._server, self._user
        try:
            grant = server.get_consent_grant(end_user=user)
            if user is None:
                raise LoginRequiredError(
                    redirect_uri=grant.redirect_uri, state=request.args.get("state")
                )
        except OAuth2Error as error:  # without a valid redirect URI: a 400 here, no redirect
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant=grant, grant_user=user)

    def _issue_token(self) -> Any:
        self.token_requests.append(request.form.to_dict())
        return self._server.create_token_response()

    def _userinfo(self) -> Any:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        entry = self._access_tokens.get(value) if scheme.lower() == "bearer" else None
        if entry is None or entry[2] < time.time():
            response = jsonify(error="invalid_token")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        return jsonify(entry[0].info())

    def _end_session(self) -> Any:
        self.logouts.append(request.values.to_dict())
        try:
            answer = self._server.create_endpoint_response("end_session")
        except OAuth2Error as error:
            return self._server.handle_error_response(None, error)
        return answer or "Signed out of the test provider."

    def _query_client(self, client_id: str) -> Client | None:
        return self._client if client_id == self.client_id else None

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/jwks",
            "end_session_endpoint": self.issuer + "/logout",
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce"]
            + ["email", "email_verified", "name"],
        }


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # no access log on the test output


@contextmanager
def running_oidc_provider() -> Iterator[OidcProvider]:
    """Serve a fresh provider on 127.0.0.1 (random port) in a thread for the ``with`` block."""
    provider = OidcProvider("http://127.0.0.1")  # the issuer is fixed once the port is known
    http = make_server("127.0.0.1", 0, provider.app, threaded=True, request_handler=_QuietHandler)
    provider.issuer = f"http://127.0.0.1:{http.server_port}"
    thread = threading.Thread(
        target=http.serve_forever, args=(0.05,), name="oidc-provider", daemon=True
    )
    thread.start()
    try:
        yield provider
    finally:
        http.shutdown()
        thread.join(timeout=10)
        http.server_close()


@pytest.fixture
def oidc_provider() -> Iterator[OidcProvider]:
    """A fresh provider per test (start-up takes a few tens of milliseconds)."""
    with running_oidc_provider() as provider:
        yield provider
