"""Driving the HTML pages through Flask's test client the way a browser does: CSRF tokens, signing
in and out, the text of a response."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.identity.models import User
from tests.kit.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The first CSRF token of a rendered page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(
    client: FlaskClient, email: str, password: str, *, next_url: str | None = None
) -> TestResponse:
    """Submit the login form the way a browser does (GET the form, POST it with its token)."""
    url = "/login" if next_url is None else "/login?" + urlencode({"next": next_url})
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD) -> FlaskClient:
    """``client`` signed in as ``user`` (who has ``password``, the factories' by default)."""
    response = login(client, user.email, password)
    assert response.status_code == 302, text(response)
    return client


def logout(client: FlaskClient) -> TestResponse:
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post("/logout", data={"csrf_token": token})


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
