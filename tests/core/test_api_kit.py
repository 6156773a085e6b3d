"""The /api/v1 kit: bearer tokens, the JSON error envelope, parse_json and pagination.

A test-only blueprint nested under /api/v1 (``create_app(api_blueprints=...)``) exercises the
helpers the way a domain API blueprint will.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, abort, jsonify
from flask.testing import FlaskClient
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.api import paginate, parse_json
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.clock import FrozenClock
from core.errors import Conflict
from core.identity.models import Role, User
from core.web.auth import current_actor, require_at_least
from tests.kit.api import bearer, envelope
from tests.kit.factories import PASSWORD, SYSTEM, make_token, make_user
from tests.kit.web import login

probe = Blueprint("probe", __name__, url_prefix="/probe")


class Point(BaseModel):
    x: int
    y: int


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    count: int = Field(ge=0)
    where: Point


class UserRow(BaseModel):
    id: int
    email: str


@probe.post("/items")
def create_item() -> Any:
    item = parse_json(ItemIn)
    return jsonify({"name": item.name, "by": current_actor().label}), 201


@probe.get("/users")
def list_users() -> Any:
    return paginate(select(User).order_by(User.id), UserRow)


@probe.get("/admin")
@require_at_least(Role.ADMIN)
def admin_only() -> Any:
    return jsonify({"ok": True})


@probe.get("/boom")
def boom() -> Any:
    raise RuntimeError("database password is hunter2")


@probe.get("/conflict")
def conflict() -> Any:
    raise Conflict("already there", fields={"slug": "taken"})


@probe.get("/busy")
def busy() -> Any:
    abort(429)


@pytest.fixture
def api_app(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> Flask:
    config = {**settings, "max_upload_mb": 1}
    return create_app(config, session_factory=session_factory, clock=clock, api_blueprints=[probe])


@pytest.fixture
def api(api_app: Flask) -> FlaskClient:
    return api_app.test_client()


# ---------------------------------------------------------------- authentication
@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz"])
def test_no_bearer_token_is_401_with_a_challenge(api: FlaskClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = api.get("/api/v1/me", headers=headers)
    envelope(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="vigie"'


def test_an_unknown_token_is_401_invalid_token(api: FlaskClient) -> None:
    response = api.get("/api/v1/me", headers=bearer("vig_not-a-real-token"))
    envelope(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="vigie", error="invalid_token"'


def test_a_revoked_token_is_401(api: FlaskClient, db_session: Session, clock: FrozenClock) -> None:
    token, secret = make_token(db_session, clock, make_user(db_session, clock))
    api_tokens.revoke_token(db_session, SYSTEM, token, clock=clock)
    db_session.flush()
    envelope(api.get("/api/v1/me", headers=bearer(secret)), 401, "unauthorized")


def test_a_deactivated_users_token_is_401(
    api: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    _token, secret = make_token(db_session, clock, user)
    accounts.set_active(db_session, SYSTEM, user, False, clock=clock)
    db_session.flush()
    envelope(api.get("/api/v1/me", headers=bearer(secret)), 401, "unauthorized")


def test_me_returns_the_profile_and_stamps_the_token(
    api: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, email="dsi@cnss.ma", name="Karim", locale="ar")
    token, secret = make_token(db_session, clock, user)
    clock.advance(minutes=5)
    response = api.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == "dsi@cnss.ma" and body["role"] == "reporter" and body["locale"] == "ar"
    assert body["is_cert_staff"] is False and body["organisation"]["id"] == user.organisation_id
    assert set(body["organisation"]) == {"id", "slug", "name", "name_ar", "kind", "sector"}
    db_session.refresh(token)
    assert token.last_used_at == clock.now()


def test_the_api_ignores_web_session_cookies(
    api: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    assert login(api, user.email, PASSWORD).status_code == 302
    envelope(api.get("/api/v1/me"), 401, "unauthorized")


def test_the_api_needs_no_csrf_token(api: FlaskClient, reporter_token: str) -> None:
    body = {"name": "probe", "count": 2, "where": {"x": 1, "y": 2}}
    response = api.post("/api/v1/probe/items", json=body, headers=bearer(reporter_token))
    assert response.status_code == 201
    assert response.get_json() == {"name": "probe", "by": "rssi@interieur.gov.ma"}  # the reporter


def test_role_decorators_answer_403_in_json(
    api: FlaskClient, db_session: Session, clock: FrozenClock, reporter_token: str
) -> None:
    envelope(api.get("/api/v1/probe/admin", headers=bearer(reporter_token)), 403, "forbidden")
    admin_secret = make_token(db_session, clock, make_user(db_session, clock, role=Role.ADMIN))[1]
    assert api.get("/api/v1/probe/admin", headers=bearer(admin_secret)).get_json() == {"ok": True}


# ---------------------------------------------------------------- request bodies
def test_malformed_json_is_400(api: FlaskClient, reporter_token: str) -> None:
    response = api.post(
        "/api/v1/probe/items",
        data='{"name": "x", ',
        content_type="application/json",
        headers=bearer(reporter_token),
    )
    envelope(response, 400, "bad_request")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415(
    api: FlaskClient, reporter_token: str, content_type: str | None
) -> None:
    response = api.post(
        "/api/v1/probe/items",
        data="name=x",
        content_type=content_type,
        headers=bearer(reporter_token),
    )
    envelope(response, 415, "unsupported_media_type")


def test_invalid_fields_are_422_and_all_named(api: FlaskClient, reporter_token: str) -> None:
    body = {"name": "", "count": -1, "where": {"x": "left"}, "colour": "red"}
    response = api.post("/api/v1/probe/items", json=body, headers=bearer(reporter_token))
    error = envelope(response, 422, "validation_failed")
    assert set(error["fields"]) == {"name", "count", "where.x", "where.y", "colour"}
    whole = api.post("/api/v1/probe/items", json=[1, 2], headers=bearer(reporter_token))
    assert set(envelope(whole, 422, "validation_failed")["fields"]) == {"body"}


def test_a_body_over_the_size_limit_is_413(api: FlaskClient, reporter_token: str) -> None:
    body = '{"name": "' + "x" * (1024 * 1024 + 1) + '"}'
    response = api.post(
        "/api/v1/probe/items",
        data=body,
        content_type="application/json",
        headers=bearer(reporter_token),
    )
    envelope(response, 413, "request_entity_too_large")


# ---------------------------------------------------------------- other errors
def test_unknown_routes_and_methods_use_the_envelope(api: FlaskClient, reporter_token: str) -> None:
    envelope(api.get("/api/v1/nothing-here", headers=bearer(reporter_token)), 404, "not_found")
    response = api.delete("/api/v1/me", headers=bearer(reporter_token))
    envelope(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_domain_errors_keep_their_code_and_fields(api: FlaskClient, reporter_token: str) -> None:
    error = envelope(
        api.get("/api/v1/probe/conflict", headers=bearer(reporter_token)), 409, "conflict"
    )
    assert error["fields"] == {"slug": "taken"}


def test_too_many_requests_uses_the_envelope(api: FlaskClient, reporter_token: str) -> None:
    envelope(
        api.get("/api/v1/probe/busy", headers=bearer(reporter_token)), 429, "too_many_requests"
    )


def test_unexpected_errors_are_500_without_details(api: FlaskClient, reporter_token: str) -> None:
    response = api.get("/api/v1/probe/boom", headers=bearer(reporter_token))
    error = envelope(response, 500, "internal_error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert error["message"] == "Internal error; it has been logged."


# ---------------------------------------------------------------- pagination
def test_pagination_envelope(
    api: FlaskClient, db_session: Session, clock: FrozenClock, reporter_token: str
) -> None:
    for _ in range(4):
        make_user(db_session, clock)
    first = api.get("/api/v1/probe/users?limit=2", headers=bearer(reporter_token)).get_json()
    assert set(first) == {"items", "total", "next"}
    assert len(first["items"]) == 2 and first["total"] == 5
    assert first["next"] == "/api/v1/probe/users?limit=2&offset=2"
    seen = [item["email"] for item in first["items"]]
    page = first
    while page["next"]:
        page = api.get(page["next"], headers=bearer(reporter_token)).get_json()
        seen += [item["email"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("query", ["limit=101", "limit=0", "limit=ten", "offset=-1", "limit=1.5"])
def test_bad_pagination_is_422(api: FlaskClient, reporter_token: str, query: str) -> None:
    response = api.get(f"/api/v1/probe/users?{query}", headers=bearer(reporter_token))
    error = envelope(response, 422, "validation_failed")
    assert set(error["fields"]) <= {"limit", "offset"} and error["fields"]
