"""Authlib's server components wired for :mod:`tests.kit.oidc_provider`: the one client, the
authorization codes (in memory, single use), the code grant, PKCE with S256 required, the OpenID
Connect extension (nonce required; the ID token is made by the provider) and RP-initiated logout.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from tests.kit.oidc_provider import OidcProvider, OidcUser

CODE_LIFETIME = 60
SCOPES = ("openid", "email", "profile")


class Client(ClientMixin):  # type: ignore[misc]
    """The one registered client: confidential, code flow only."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris: list[str] = []

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.redirect_uris)}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is required on every authorization request

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: OidcUser
    nonce: str | None
    auth_time: int
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class Server(AuthorizationServer):  # type: ignore[misc]
    provider: OidcProvider


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, req: Any) -> None:
        data = req.payload.data
        self.server.provider._codes[code] = Code(
            code=code,
            client_id=req.client.client_id,
            redirect_uri=req.payload.redirect_uri,
            scope=req.scope,
            user=req.user,
            nonce=data.get("nonce"),
            auth_time=int(time.time()),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires_at=time.time() + CODE_LIFETIME,
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        item: Code | None = self.server.provider._codes.pop(code, None)  # single use, atomic
        if item is None or item.client_id != client.client_id or item.expires_at < time.time():
            return None
        return item

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.server.provider._codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> OidcUser:
        return authorization_code.user


class S256Required(CodeChallenge):  # type: ignore[misc]
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE: 'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class OpenIDCodeExtension(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, req: Any) -> bool:
        return any(code.nonce == nonce for code in list(self.provider._codes.values()))

    def generate_user_info(self, user: OidcUser, scope: str) -> dict[str, Any]:
        return user.info()

    def encode_id_token(self, token: dict[str, Any], req: Any) -> str:
        return self.provider._id_token(req.authorization_code, token["access_token"])


class EndSession(EndSessionEndpoint):  # type: ignore[misc]
    def get_server_jwks(self) -> KeySet:
        return KeySet([self.server.provider._key])

    def get_algorithms(self) -> list[str]:
        return ["RS256"]

    def end_session(self, end_session_request: Any) -> None:
        pass  # no sessions at this provider; the call is recorded by the view
