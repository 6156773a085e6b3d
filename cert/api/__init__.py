"""API kit: the ``/api/v1`` parent blueprint (web kit; never imports domain packages).

* Authentication by bearer token only (``Authorization: Bearer <token>``); session cookies are
  ignored, which is why the API is exempt from CSRF. 401 answers carry ``WWW-Authenticate: Bearer``.
* One JSON error envelope, ``{"error": {"code", "message", "fields"}}``, for every error under
  ``/api`` (``cert.web`` renders it).
* :func:`parse_json` validates a request body with a pydantic model (400 malformed, 415 wrong
  Content-Type, 422 naming every invalid field); :func:`paginate` answers
  ``{"items", "total", "next"}`` with ``limit`` ≤ 100.

``create_app`` calls :func:`register` with the domain API blueprints, nested under ``/api/v1``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import Select
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from cert.auth import services as accounts
from cert.auth.decorators import current_account, use_api_user
from cert.auth.models import User
from cert.errors import AuthenticationFailed, ValidationFailed
from cert.web import context, csrf, error_response, fetch_page, get_session, page_url

PREFIX = "/api/v1"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class MissingToken(AuthenticationFailed):
    """No bearer token at all (RFC 6750: the challenge then carries no error code)."""


# ---------------------------------------------------------------- authentication
def _authenticate() -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken("a bearer token is required (Authorization: Bearer <token>)")
    session = get_session()
    user = accounts.authenticate_token(session, token, clock=context().clock)
    session.commit()  # last_used_at
    use_api_user(user)


def _unauthorized(exc: AuthenticationFailed) -> tuple[Response, int]:
    response, status = error_response(401, exc.code, exc.message, exc.fields)
    challenge = 'Bearer realm="vigie"'
    if not isinstance(exc, MissingToken):
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response, status


def api_user() -> User:
    """The token's user (API views run only after authentication)."""
    user = current_account()
    if user is None:
        raise MissingToken("a bearer token is required")
    return user


# ---------------------------------------------------------------- request bodies
def parse_json(model: type[M]) -> M:
    """The request body validated by ``model``; 415, 400 or 422 (every invalid field named)."""
    if not request.is_json:
        raise UnsupportedMediaType("expected a JSON body (Content-Type: application/json)")
    try:
        return model.model_validate_json(request.get_data(cache=True))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise BadRequest("malformed JSON body") from None
        raise ValidationFailed("invalid request body", fields=field_errors(errors)) from None


def field_errors(errors: list[ErrorDetails]) -> dict[str, str]:
    """pydantic errors → ``{"dotted.field.path": "what is wrong"}`` (``body`` for the whole)."""
    fields: dict[str, str] = {}
    for error in errors:
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields[name] = f"{fields[name]}; {error['msg']}" if name in fields else error["msg"]
    return fields


# ---------------------------------------------------------------- pagination
def _int_arg(name: str, default: int, low: int, high: int | None, errors: dict[str, str]) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        errors[name] = f"an integer from {low}" + (f" to {high}" if high is not None else "")
        return default
    return int(raw)


def page_params() -> tuple[int, int]:
    """``limit`` (1–100, default 50) and ``offset`` (≥ 0) from the query string, or 422."""
    errors: dict[str, str] = {}
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
    offset = _int_arg("offset", 0, 0, None, errors)
    if errors:
        raise ValidationFailed("invalid pagination", fields=errors)
    return limit, offset


def paginate(query: Select[T], schema: type[BaseModel]) -> Response:
    """``{"items": [...], "total": n, "next": url | null}`` for an ordered query."""
    limit, offset = page_params()
    page = fetch_page(query, limit=limit, offset=offset)
    items = [
        schema.model_validate(item, from_attributes=True).model_dump(mode="json")
        for item in page.items
    ]
    next_url = page_url(limit=limit, offset=offset + limit) if page.has_next else None
    return jsonify({"items": items, "total": page.total, "next": next_url})


# ---------------------------------------------------------------- /me
class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    name_ar: str | None
    kind: str
    sector: str | None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    locale: str
    is_cert_staff: bool
    last_login_at: dt.datetime | None
    organisation: OrganisationOut


def me() -> Any:
    """The caller's profile and organisation."""
    return jsonify(UserOut.model_validate(api_user()).model_dump(mode="json"))


# ---------------------------------------------------------------- set-up
def register(app: Flask, *children: Blueprint) -> Blueprint:
    """Build this app's ``/api/v1`` blueprint, nest ``children`` in it and register it."""
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    bp.before_request(_authenticate)
    bp.register_error_handler(AuthenticationFailed, _unauthorized)
    bp.add_url_rule("/me", "me", me)
    for child in children:
        bp.register_blueprint(child)
    app.register_blueprint(bp)
    for name, blueprint in app.blueprints.items():
        if name == "api" or name.startswith("api."):
            csrf.exempt(blueprint)  # token-authenticated: no cookie, nothing to forge
    return bp
