"""Driving Vigie's single sign-on through the Flask test client against the real test provider
(:mod:`tests.kit.oidc_provider`): Vigie → the provider's authorize endpoint over HTTP → back to
Vigie's callback, which exchanges the code with the provider over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from cert.app import create_app
from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.models import Organisation, OrganisationKind, User
from tests.kit.factories import make_org
from tests.kit.oidc_provider import OidcProvider, OidcUser
from tests.kit.web import text

BASE_URL = "http://vigie.test"  # CERT_BASE_URL of the app under test
CALLBACK = BASE_URL + "/login/sso/callback"
ROLE_MAP = (
    "cert-analysts=analyst@macert,cert-leads=lead@macert,cert-admins=admin@macert,"
    "sante-soc=reporter@min-sante"
)


def sso_settings(provider: OidcProvider, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """The settings turning single sign-on on against ``provider`` (its secret in a file)."""
    secret = tmp_path / "oidc-client-secret"
    secret.write_text(provider.client_secret + "\n", encoding="utf-8")
    provider.register_redirect(CALLBACK)
    provider.register_redirect(BASE_URL + "/login")
    return {
        "base_url": BASE_URL,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": provider.client_id,
        "oidc_client_secret_file": secret,
        "oidc_role_map": ROLE_MAP,
        "oidc_provider_name": "ID Gouv",
        **changes,
    }


def analyst_at_idp(**changes: Any) -> OidcUser:
    values: dict[str, Any] = {
        "sub": "idp-7781",
        "email": "nadia.alaoui@cert.gov.ma",
        "name": "Nadia Alaoui",
        "claims": {"roles": ["cert-analysts"]},
    }
    values.update(changes)
    return OidcUser(**values)


def start(client: FlaskClient, next_url: str | None = None) -> str:
    """``GET /login/sso``: the provider's authorize URL Vigie sends the browser to."""
    url = "/login/sso" + ("?" + urlencode({"next": next_url}) if next_url else "")
    response = client.get(url)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    return str(location)


def at_provider(authorize_url: str) -> str:
    """The browser at the provider: the redirect back to Vigie (path and query)."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return f"{back.path}?{back.query}"


def sign_in(
    client: FlaskClient,
    provider: OidcProvider,
    user: OidcUser | None,
    *,
    next_url: str | None = None,
) -> TestResponse:
    """The whole flow; the callback's response (a redirect)."""
    provider.sign_in_as(user)
    return client.get(at_provider(start(client, next_url)))


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def with_param(path: str, **changes: str | None) -> str:
    """``path`` with query parameters changed (``None`` removes one)."""
    parts = urlsplit(path)
    params = {key: values[0] for key, values in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return f"{parts.path}?{urlencode(params)}"


# ---------------------------------------------------------------- fixtures and checks
NO_ACCESS = "Your account at ID Gouv gives no access to Vigie: ask your CERT contact."
STATE = "The sign-in could not be verified (state). Please try again."
NONCE = "The sign-in could not be verified (nonce). Please try again."
EXPIRED = "The identity provider&#39;s answer has expired (ID token). Please try again."
INVALID = "The identity provider&#39;s answer could not be verified (ID token). Please try again."


def organisations(db_session: Session, clock: FrozenClock) -> dict[str, Organisation]:
    return {
        "macert": make_org(db_session, clock, slug="macert", kind=OrganisationKind.CERT),
        "min-sante": make_org(db_session, clock, slug="min-sante"),
    }


def make_app(
    settings: dict[str, Any], factory: sessionmaker[Session], clock: FrozenClock, **more: Any
) -> Flask:
    return create_app({**settings, **more}, session_factory=factory, clock=clock)


def english_client(app: Flask) -> FlaskClient:
    """A browser whose pages are in English (the French and Arabic ones: the button's test)."""
    client = app.test_client()
    client.get("/login?lang=en")
    return client


def message(client: FlaskClient) -> str:
    """The sign-in page after a redirect to it: its text (with the flashed message)."""
    return text(client.get("/login"))


def refused(response: Any, client: FlaskClient, expected: str) -> None:
    """The answer went back to the sign-in page, which shows ``expected``; nobody signed in."""
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = message(client)
    assert expected in page, page
    assert client.get("/account").status_code == 302  # not signed in


def user_named(db: Session, email: str = "nadia.alaoui@cert.gov.ma") -> User | None:
    return db.scalar(select(User).where(User.email == email))


def refusals(db: Session) -> list[str]:
    rows = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "sso.refused").order_by(AuditEntry.id)
    )
    return [row.after["reason"] for row in rows]
