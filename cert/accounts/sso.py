"""Signing in through the identity provider (OpenID Connect, authorisation code flow).

Authlib's Flask client does the protocol: ``/login/sso`` sends the browser to the provider with a
random ``state``, a ``nonce`` and a PKCE ``code_challenge`` (S256), kept in the signed session
cookie; ``/login/sso/callback`` checks the ``state``, exchanges the code (with the
``code_verifier``) over a direct HTTPS request, and checks the ID token: its signature against
the provider's published keys, ``iss``, ``aud``, ``exp`` and the ``nonce``. The claims then go to
the kernel (:func:`core.auth.sso.sign_in_with_claims`), which decides which account, if any, they
sign in. Every failure comes back to the sign-in page with a message, never an error page, and is
audited (``sso.refused``).

The provider is the second factor's judge: a sign-in through it does not ask for Vigie's own
second factor (``CERT_MFA_REQUIRED_ROLES`` applies to password sign-ins). Logging out of a session
opened through the provider also ends the provider's session when its discovery document has an
``end_session_endpoint`` (RP-initiated logout, :func:`logout_url`).
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, abort, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError

from core.auth import sso
from core.auth.mfa import Method
from core.auth.sso_config import SsoSettings
from core.i18n import localise
from core.web import CSP, context, get_session, unit_of_work
from core.web.auth import current_account, log_in, safe_next

log = logging.getLogger(__name__)

EXTENSION = "vigie_sso"  # app.extensions: (SsoSettings, Authlib client) or None
NEXT_KEY = "sso_next"  # where to go after the provider's answer (a path on this site)
ID_TOKEN_KEY = "sso_id_token"  # noqa: S105 (a session key: the ID token, for logging out)
TIMEOUT_SECONDS = 10  # each request to the provider at most
METADATA_SECONDS = 24 * 3600  # the discovery document and keys are read again after this
STATE_PREFIX = "_state_vigie_"  # Authlib's session keys of a flow in progress (client "vigie")


def init_app(app: Flask, settings: SsoSettings | None) -> None:
    """Register the provider with Authlib when single sign-on is on (nothing is fetched here:
    the discovery document is read at the first sign-in)."""
    app.context_processor(lambda: {"sso_provider": provider_name()})
    if settings is None:
        app.extensions[EXTENSION] = None
        return
    oauth = OAuth(app)
    client = oauth.register(
        "vigie",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.metadata_url,
        client_kwargs={
            "scope": settings.scopes,
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )
    app.extensions[EXTENSION] = (settings, client)
    app.after_request(_allow_logout_at_provider)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _allow_logout_at_provider(response: Response) -> Response:
    """The sign-out form's redirect to the provider's end-session endpoint is allowed by the
    Content-Security-Policy (``form-action`` governs a form's redirects too: Chromium would stop
    the sign-out at Vigie's page). Runs before :func:`core.web.security_headers`."""
    settings, client = current_app.extensions[EXTENSION]
    origins = {_origin(settings.issuer)}
    end_session = client.server_metadata.get("end_session_endpoint")
    if isinstance(end_session, str) and end_session.startswith(("https://", "http://")):
        origins.add(_origin(end_session))
    sources = " ".join(sorted(origins))
    policy = CSP.replace("form-action 'self'", f"form-action 'self' {sources}")
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


def configured() -> SsoSettings | None:
    """The single sign-on settings of this application, ``None`` when it is off."""
    pair = current_app.extensions.get(EXTENSION)
    return pair[0] if pair else None


def provider_name() -> str | None:
    settings = configured()
    return settings.provider_name if settings else None


def _client() -> Any:
    pair = current_app.extensions.get(EXTENSION)
    if not pair:
        abort(404)
    return pair[1]


def _absolute(endpoint: str) -> str:
    """The public URL of ``endpoint`` (``CERT_BASE_URL``, not the request's Host header)."""
    base: str = context().settings.base_url
    return base + url_for(endpoint)


def _metadata(settings: SsoSettings) -> dict[str, Any]:
    """The provider's discovery document, kept :data:`METADATA_SECONDS` (with the keys Authlib
    fetches into it; an ID token signed by an unknown key fetches them at once); its issuer must
    be the configured one, else it is dropped (read again next time) and ``ValueError``."""
    client = _client()
    loaded = client.server_metadata.get("_loaded_at")
    if loaded is not None and time.time() - loaded > METADATA_SECONDS:
        client.server_metadata.clear()
    metadata: dict[str, Any] = client.load_server_metadata()
    if str(metadata.get("issuer", "")).rstrip("/") != settings.issuer:
        client.server_metadata.clear()
        raise ValueError(f"the discovery document names issuer {metadata.get('issuer')!r}")
    return metadata


# ---------------------------------------------------------------- the views
def sso_login() -> ResponseReturnValue:
    """Start the flow: the browser goes to the provider (state, nonce, PKCE)."""
    settings = configured()
    if settings is None:
        abort(404)
    target = safe_next(request.args.get("next"), url_for("home"))
    if current_account() is not None:
        return redirect(target)
    for key in [key for key in session if key.startswith(STATE_PREFIX)]:
        session.pop(key)  # one flow at a time: abandoned ones would swell the cookie past 4 kB
    try:
        _metadata(settings)
        response = _client().authorize_redirect(
            _absolute("auth.sso_callback"), ui_locales=str(get_locale() or "fr")
        )
    except (requests.RequestException, OAuthError, ValueError, RuntimeError) as exc:
        log.warning("single sign-on: the provider cannot be reached: %s", exc)
        return _back(_unreachable(settings))
    session[NEXT_KEY] = target
    return cast(ResponseReturnValue, response)


def sso_callback() -> ResponseReturnValue:
    """The provider's answer: checked by Authlib, then the kernel decides; always a redirect."""
    settings = configured()
    if settings is None:
        abort(404)
    target = safe_next(session.pop(NEXT_KEY, None), url_for("home"))
    unit_of_work().commit()  # ends a read of the session loader, if any
    try:
        id_token, claims = _verified(settings)  # HTTP to the provider: no database lock held
    except _Refused as exc:
        return _refuse(settings, exc.detail, exc.message)
    unit_of_work().write()  # the sign-in or the refusal is written either way
    try:
        user = sso.sign_in_with_claims(
            get_session(), claims, settings=settings, clock=context().clock, ip=request.remote_addr
        )
    except sso.SsoRefused as exc:
        unit_of_work().commit()  # the audit row, a deactivation
        return _back(localise(exc.reason, _))
    log_in(user, method=Method.SSO)
    unit_of_work().commit()
    session[ID_TOKEN_KEY] = id_token  # for logging out of the provider too
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    return redirect(target)


class _Refused(Exception):
    """The provider's answer cannot be trusted: ``detail`` for the audit log, ``message`` for
    the person (translated)."""

    def __init__(self, detail: str, message: str) -> None:
        super().__init__(detail)
        self.detail, self.message = detail, message


def _verified(settings: SsoSettings) -> tuple[str, dict[str, Any]]:
    """The ID token and the claims of a checked answer (state, code, ID token, nonce), with the
    userinfo endpoint's when the ID token lacks the e-mail address or the role claim."""
    try:
        return _answer(settings)
    except MismatchingStateError:
        message = _("The sign-in could not be verified (state). Please try again.")
        raise _Refused("state missing or forged", message) from None
    except OAuthError as exc:
        raise _Refused(
            f"provider error {exc.error}: {exc.description}", _provider_error(exc, settings)
        ) from None
    except ExpiredTokenError:
        message = _("The identity provider's answer has expired (ID token). Please try again.")
        raise _Refused("ID token expired", message) from None
    except (InvalidClaimError, MissingClaimError) as exc:
        if exc.claim == "nonce":
            message = _("The sign-in could not be verified (nonce). Please try again.")
            raise _Refused(f"ID token nonce: {exc}", message) from None
        raise _Refused(f"ID token claim: {exc}", _invalid()) from None
    except JoseError as exc:  # a bad signature, an unknown key, a malformed token
        raise _Refused(f"ID token: {exc}", _invalid()) from None
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        raise _Refused(
            f"provider unreachable or invalid answer: {exc}", _unreachable(settings)
        ) from None


def _answer(settings: SsoSettings) -> tuple[str, dict[str, Any]]:
    """Authlib's checks, then the claims (see :func:`_verified`, which says what failed)."""
    client = _client()
    issuer = _metadata(settings)["issuer"]
    # iss and aud named: by default Authlib checks the audience only through azp
    token = client.authorize_access_token(
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": settings.client_id},
        }
    )
    id_token, claims = token.get("id_token"), token.get("userinfo")
    if not isinstance(id_token, str) or claims is None:
        raise _Refused("no ID token in the token response", _invalid())
    claims = dict(claims)
    if not _complete(claims, settings) and client.server_metadata.get("userinfo_endpoint"):
        extra = dict(client.userinfo(token=token))
        if extra.get("sub") != claims.get("sub"):
            raise _Refused("userinfo names another subject", _invalid())
        claims = {**extra, **claims}
    return id_token, claims


def _complete(claims: dict[str, Any], settings: SsoSettings) -> bool:
    top = settings.role_claim.split(".")[0]
    return all(key in claims for key in ("email", "email_verified", top))


def _invalid() -> str:
    return str(
        _("The identity provider's answer could not be verified (ID token). Please try again.")
    )


def _provider_error(exc: OAuthError, settings: SsoSettings) -> str:
    name = settings.provider_name
    if exc.error in {"access_denied", "login_required", "consent_required", "interaction_required"}:
        text = _("The sign-in was cancelled or refused at %(provider)s.", provider=name)
    else:
        text = _("%(provider)s did not complete the sign-in. Please try again.", provider=name)
    return str(text)


def _refuse(settings: SsoSettings, detail: str, message: str) -> ResponseReturnValue:
    # the provider's (or a forger's) words, on one line
    detail = "".join(char if char.isprintable() else " " for char in detail)
    log.warning("single sign-on refused: %s", detail)
    unit_of_work().write()
    sso.record_refusal(
        get_session(), detail, settings=settings, clock=context().clock, ip=request.remote_addr
    )
    unit_of_work().commit()
    return _back(message)


def _back(message: str) -> ResponseReturnValue:
    flash(message, "danger")
    return redirect(url_for("auth.login"))


def _unreachable(settings: SsoSettings) -> str:
    return str(
        _(
            "%(provider)s cannot be reached at the moment. Please try again later.",
            provider=settings.provider_name,
        )
    )


def logout_url(id_token: str | None) -> str | None:
    """Where to send the browser to end the provider's session too (RP-initiated logout), or
    ``None`` when the provider offers none (or cannot be reached: the local session ends anyway).
    The provider sends the browser back to the sign-in page."""
    settings = configured()
    if settings is None or not id_token:
        return None
    try:
        if not _metadata(settings).get("end_session_endpoint"):
            return None
        result = _client().create_logout_url(
            post_logout_redirect_uri=_absolute("auth.login"),
            id_token_hint=id_token,
            client_id=settings.client_id,
        )
    except (requests.RequestException, OAuthError, ValueError, RuntimeError) as exc:
        log.warning("single sign-on: no logout at the provider: %s", exc)
        return None
    url: str = result["url"]
    return url
