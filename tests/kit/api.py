"""The incident API as the tests call it: a sample submission, bearer headers, the error envelope,
API users with a token, on the test's session or committed for an application on a database of
its own (used by the ``test_api_*`` modules of every package; the world's people have
``world.token``/``world.headers``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.models import Organisation, Role, User
from incidents.models import Incident
from tests.kit.factories import PHISHING, make_org, make_token, make_user

URL = "/api/v1/incidents"


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def envelope(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The ``error`` object of a JSON error envelope with ``status``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    error: dict[str, Any] = body["error"]
    if code is not None:
        assert error["code"] == code
    return error


def api_user(
    session: Session,
    clock: FrozenClock,
    org: Organisation | None = None,
    *,
    role: Role = Role.REPORTER,
    email: str | None = None,
) -> tuple[User, str]:
    """A user and the secret of an API token of theirs."""
    user = make_user(session, clock, org=org, role=role, email=email, password=None)
    return user, make_token(session, clock, user)[1]


def committed_reporters(
    factory: Callable[[], Session], clock: FrozenClock, count: int = 1
) -> list[str]:
    """``count`` reporters, each of a ministry of their own, committed through ``factory``
    (threads, other processes, an application with its own engine): their API token secrets."""
    secrets = []
    with factory() as session:
        for _ in range(count):
            user = make_user(session, clock, org=make_org(session, clock), password=None)
            secrets.append(make_token(session, clock, user)[1])
        session.commit()
    return secrets


def submit(client: FlaskClient, secret: str, body: Any = None, **headers: str) -> TestResponse:
    return client.post(
        URL, json=PHISHING if body is None else body, headers=bearer(secret, **headers)
    )


def incident_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Incident)) or 0


BOUNDARY = "vigie-test-boundary"


def multipart(content: bytes, name: str, field: str = "file") -> bytes:
    """A multipart/form-data body built in memory (the test client's own encoder spools large
    bodies to temporary files that it never closes)."""
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()
