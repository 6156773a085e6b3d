"""Calling any route as one user, signed in (web) or with a bearer token (API): the matrices."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.models import User
from tests.kit.api import bearer
from tests.kit.factories import PASSWORD, make_token
from tests.kit.web import csrf_token, login, text


class Caller:
    """Sends one request per route as ``role``: signed in (web) or with a bearer token (API)."""

    def __init__(
        self, client: FlaskClient, session: Session, clock: FrozenClock, user: User | None
    ):
        self.client = client
        self.headers = bearer(make_token(session, clock, user)[1]) if user else {}
        if user is not None:
            assert login(client, user.email, PASSWORD).status_code == 302
        page = "/account" if user is not None else "/login"
        self.token = csrf_token(text(client.get(page)))

    def send(self, route: str, path: str) -> TestResponse:
        method = route.split(" ", 1)[0]
        if path.startswith("/api/"):
            if path.endswith("/attachments"):
                data = {"file": (io.BytesIO(b"minimal"), "minimal.txt")}
                return self.client.post(path, data=data, headers=self.headers)
            return self.client.open(path, method=method, json={}, headers=self.headers)
        if method == "GET":
            return self.client.get(path)
        return self.client.post(path, data={"csrf_token": self.token})
