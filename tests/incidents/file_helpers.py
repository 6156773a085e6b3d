"""Form posts to the incident file that go through the real pages (CSRF token included), for the
page tests of the file and of the status page."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.kit.web import csrf_token, text


def token(client: FlaskClient) -> str:
    return csrf_token(text(client.get("/account")))


def act(
    client: FlaskClient, reference: str, action: str, prefix: str | None = None, /, **fields: str
) -> TestResponse:
    """POST one form of the file the way the browser sends it (prefixed names, CSRF token)."""
    name = (lambda key: f"{prefix}-{key}") if prefix else (lambda key: key)
    data = {name(key): value for key, value in fields.items()}
    data[name("csrf_token")] = token(client)
    return client.post(f"/incidents/{reference}/{action}", data=data)
