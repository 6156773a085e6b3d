"""API kit: the ``/api/v1`` parent blueprint (web kit; never imports domain packages).

* Authentication by bearer token only (``Authorization: Bearer <token>``); session cookies are
  ignored, which is why the API is exempt from CSRF. 401 answers carry ``WWW-Authenticate: Bearer``.
  A read-only token (``core.auth.tokens.TokenScope``) may only send GET, HEAD and OPTIONS; any
  other method is a 403 (code ``forbidden``, "this API token is read-only") before the view runs.
* One JSON error envelope, ``{"error": {"code", "message", "fields"}}``, for every error under
  ``/api`` (``core.web`` renders it).
* :func:`parse_json` validates a request body with a pydantic model (400 malformed, 415 wrong
  Content-Type, 422 naming every invalid field), :func:`parse_query` the query string;
  :func:`paginate` answers ``{"items", "total", "next"}`` with ``limit`` ≤ 100 (lists paginated
  by keyset cursors answer it themselves, with ``previous`` and ``total_capped``:
  ``Reply(keyset=True)``).
* Views declare their contract with :func:`core.api.openapi.operation`; the OpenAPI 3.1 document
  (``/api/v1/openapi.json``) and its rendered reference (``/api/v1/docs``) are built from those
  declarations and their pydantic models. Operations declared ``public`` need no token; a
  declared ``rate_limit`` applies per bearer token.

``create_app`` calls :func:`register` with the domain API blueprints, nested under ``/api/v1``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Select
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from core import inputs
from core.api import centres, docs
from core.api.openapi import API_WRITES, Operation, Reply, document, operation, spec_of
from core.auth import tokens as api_tokens
from core.db import is_postgres
from core.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from core.identity.models import User
from core.inputs import field_errors
from core.web import (
    context,
    csrf,
    error_response,
    fetch_page,
    page_url,
    rate_limit,
    unit_of_work,
)
from core.web.auth import current_account, use_api_user

PREFIX = "/api/v1"
TITLE = "Vigie API"
VERSION = "1"
DESCRIPTION = (
    "Incident reporting and follow-up for the national CERT. Authenticate with an API token "
    "(`Authorization: Bearer <token>`). A token is read-only (scope `read`: GET, HEAD and "
    'OPTIONS; any other method answers 403 `forbidden`, "this API token is read-only", before '
    "anything is read or written) or read and write (scope `write`: whatever its user may); "
    "its scope is chosen when it is created. Every error is a JSON envelope "
    '`{"error": {"code", "message", "fields"}}`; lists are paginated with `limit` and `offset` '
    "(the incident list by keyset cursors as well): follow `next` until it is null."
)
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
PAGE_PARAMS = ("limit", "offset")
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})  # methods that change nothing
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class MissingToken(AuthenticationFailed):
    """No bearer token at all (RFC 6750: the challenge then carries no error code)."""


# ---------------------------------------------------------------- authentication
def _authenticate() -> None:
    spec = spec_of(current_app.view_functions.get(request.endpoint or ""))
    if spec is not None and spec.public:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken("a bearer token is required (Authorization: Bearer <token>)")
    uow = unit_of_work()
    session = uow.session
    # A write (other than a file upload, read before any lock is taken) is one transaction from
    # the token check to the view's commit. SQLite-specific: it starts as a writer (BEGIN
    # IMMEDIATE), so that the read of the token cannot make the write fail ("database is
    # locked") when another request commits in between; the view's ``uow.write()`` is then a no-op.
    one_transaction = spec is not None and spec.upload is None and request.method not in SAFE
    if one_transaction:
        uow.write()
    found = api_tokens.authenticate_token(session, token, clock=context().clock)
    if session.dirty and not one_transaction and not is_postgres(session):
        # SQLite-specific: the same for a deferred transaction that read: redo the stamp as a
        # writer.
        uow.rollback()
        uow.write()
        found = api_tokens.authenticate_token(session, token, clock=context().clock)
    if session.dirty or not one_transaction:
        uow.commit()  # last_used_at when it changed, whatever the view does; or ends a read
    if not api_tokens.allows(found.scope, request.method):
        # before the view runs: nothing of a write is ever read, parsed or written
        raise PermissionDenied(api_tokens.READ_ONLY_MESSAGE)
    use_api_user(found.user)


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
    """The request body validated by ``model``; 415, 400 or 422 (every invalid field named).

    A NUL character anywhere in the body (``\\u0000``) is a 422 naming where it is. Validators
    find the request's time in the validation context (``info.context["now"]``, the app clock).
    """
    if not request.is_json:
        raise UnsupportedMediaType("expected a JSON body (Content-Type: application/json)")
    raw = request.get_data(cache=True)
    if b"\\u0000" in raw:  # the only way JSON can carry a NUL; else skip the second parse
        try:
            where = inputs.nul_path(json.loads(raw))
        except ValueError:
            raise BadRequest("malformed JSON body") from None
        if where is not None:
            raise ValidationFailed("invalid request body", fields={where: inputs.NUL_MESSAGE})
    try:
        return model.model_validate_json(raw, context={"now": context().clock.now()})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise BadRequest("malformed JSON body") from None
        raise ValidationFailed("invalid request body", fields=field_errors(errors)) from None


def parse_query(model: type[M], *, paginated: bool = False) -> M:
    """The query string validated by ``model``; 422 naming every invalid or unknown parameter.

    ``paginated``: ``limit`` and ``offset`` are allowed (and checked) besides the model's fields.
    An empty value is refused like any other invalid one (leave the parameter out instead): the
    document's enums and patterns have no empty member.
    """
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for name in request.args:
        given = request.args.getlist(name)
        if paginated and name in PAGE_PARAMS:
            continue
        if len(given) > 1:
            errors[name] = "give this parameter once"
        elif not given[0].strip():
            errors[name] = "empty; give a value or leave the parameter out"
        values[name] = given[0]
    if paginated:
        _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
        _int_arg("offset", 0, 0, inputs.MAX_OFFSET, errors)
    try:
        result = model.model_validate(values)
    except ValidationError as exc:
        errors = field_errors(exc.errors(include_url=False), "query") | errors
    if errors:
        raise ValidationFailed("invalid query parameters", fields=errors)
    return result


# ---------------------------------------------------------------- pagination
def _int_arg(name: str, default: int, low: int, high: int, errors: dict[str, str]) -> int:
    given = request.args.getlist(name)
    if not given:
        return default
    if len(given) > 1:
        errors[name] = "give this parameter once"
        return default
    try:
        return inputs.whole_number(given[0], low, high)
    except ValueError as exc:
        errors[name] = str(exc)
        return default


def page_params(errors: dict[str, str] | None = None) -> tuple[int, int]:
    """``limit`` (1–100, default 50) and ``offset`` (0 to ``core.inputs.MAX_OFFSET``) from the
    query string, or 422 naming the parameter; given ``errors``, the problems are added to it
    instead (a view that checks other parameters too names them all at once)."""
    found: dict[str, str] = {}
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, found)
    offset = _int_arg("offset", 0, 0, inputs.MAX_OFFSET, found)
    if errors is not None:
        errors.update(found)
    elif found:
        raise ValidationFailed("invalid pagination", fields=found)
    return limit, offset


def paginate(
    query: Select[T],
    schema: type[BaseModel],
    *,
    render: Callable[[T], BaseModel] | None = None,
) -> Response:
    """``{"items": [...], "total": n, "next": url | null}`` for an ordered query.

    Rows become ``schema`` by attribute, or through ``render(row)`` when the API shape differs
    from the row's (renamed fields, links).
    """
    limit, offset = page_params()
    page = fetch_page(query, limit=limit, offset=offset)
    items = [
        (render(item) if render else schema.model_validate(item, from_attributes=True)).model_dump(
            mode="json"
        )
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


@operation(
    summary="The caller's profile and organisation",
    tag="account",
    replies={200: Reply("The token's user", UserOut)},
)
def me() -> Any:
    """The caller's profile and organisation."""
    return jsonify(UserOut.model_validate(api_user()).model_dump(mode="json"))


# ---------------------------------------------------------------- documentation
def api_document() -> dict[str, Any]:
    """This app's OpenAPI document (built once per app)."""
    cached: dict[str, Any] | None = current_app.extensions.get("api_openapi")
    if cached is None:
        cached = document(
            current_app, PREFIX, title=TITLE, version=VERSION, description=DESCRIPTION
        )
        current_app.extensions["api_openapi"] = cached
    return cached


@operation(
    summary="This document (OpenAPI 3.1)",
    tag="documentation",
    public=True,
    replies={200: Reply("The OpenAPI 3.1 document of every /api/v1 route")},
)
def openapi_json() -> Any:
    return jsonify(api_document())


@operation(
    summary="The API reference as a web page",
    tag="documentation",
    public=True,
    replies={
        200: Reply("Operations, parameters and schemas of the OpenAPI document", media="text/html")
    },
)
def docs_page() -> str:
    doc = api_document()
    return render_template(
        "api/docs.html",
        document=doc,
        description=docs.inline_code(doc["info"]["description"]),
        operations=docs.operations(doc),
        schemas=docs.schemas(doc),
    )


# ---------------------------------------------------------------- set-up
def token_rate_key() -> str:
    """Rate-limit key of an API request: a hash of its bearer token (never the token itself)."""
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _apply_rate_limits(app: Flask) -> None:
    """Wrap each API view that declares a ``rate_limit`` (once per endpoint)."""
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            methods.setdefault(rule.endpoint, set()).update(rule.methods or ())
    for endpoint, allowed in methods.items():
        spec: Operation | None = spec_of(app.view_functions[endpoint])
        if spec is not None and spec.rate_limit:
            limited = sorted(allowed - {"HEAD", "OPTIONS"})
            limit = spec.rate_limit
            if limit == API_WRITES:  # the deployment's setting (a ministry's SOC may need more)
                limit = app.extensions["vigie"].settings.api_write_rate_limit
            rate_limit(app, endpoint, limit, methods=limited, key=token_rate_key)


def register(app: Flask, *children: Blueprint) -> Blueprint:
    """Build this app's ``/api/v1`` blueprint, nest ``children`` in it and register it."""
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    bp.before_request(_authenticate)
    bp.register_error_handler(AuthenticationFailed, _unauthorized)
    bp.add_url_rule("/me", "me", me)
    bp.add_url_rule("/centres", "centres", centres.index)
    bp.add_url_rule("/openapi.json", "openapi", openapi_json)
    bp.add_url_rule("/docs", "docs", docs_page)
    for child in children:
        bp.register_blueprint(child)
    app.register_blueprint(bp)
    _apply_rate_limits(app)
    for name, blueprint in app.blueprints.items():
        if name == "api" or name.startswith("api."):
            csrf.exempt(blueprint)  # token-authenticated: no cookie, nothing to forge
    return bp
