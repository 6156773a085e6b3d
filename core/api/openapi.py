"""OpenAPI 3.1 for ``/api/v1``, generated from the pydantic models the views validate with.

Each API view declares its contract with :func:`operation` (summary, body and query models,
replies, errors, rate limit, public or not). :func:`document` walks the app's URL map: a route
without a declaration is left out of ``paths``, so the test that compares the document with the
URL map catches undocumented routes. Schemas come from ``pydantic.json_schema.models_json_schema``
with ``ref_template="#/components/schemas/{model}"``. Web kit: never imports domain packages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from core.inputs import MAX_ID, MAX_OFFSET

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
SPEC_ATTRIBUTE = "api_operation"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])
API_WRITES = "api-writes"  # Operation.rate_limit: the configured CERT_API_WRITE_RATE_LIMIT

ERRORS: dict[int, str] = {
    400: "Malformed request (e.g. a JSON body that does not parse)",
    401: "Missing, invalid or revoked bearer token",
    403: "The token's user may not do this, or the token is read-only (scope `read`) and the "
    "method is not GET: `this API token is read-only`",
    404: "Not found — also for objects the caller may not see (existence is never revealed)",
    409: "Conflicts with existing data",
    413: "The request or upload is larger than the configured limit",
    415: "Wrong Content-Type",
    422: "Invalid input: `fields` names every invalid field, query parameter or header",
    429: "Rate limit exceeded; retry later",
    503: "The database is unavailable; the transaction was rolled back, nothing is half-written. "
    "Retry after `Retry-After` seconds (with the same `Idempotency-Key` for submissions)",
}


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable name, e.g. `validation_failed`")
    message: str = Field(description="Human-readable explanation (English)")
    fields: dict[str, str] = Field(
        description="Each invalid field (`contact.email`, `observables[2]`), query parameter or "
        "header → what is wrong with it; empty when not applicable"
    )


class ErrorEnvelope(BaseModel):
    """Every error under /api has this shape."""

    error: ErrorBody


@dataclass(frozen=True)
class Reply:
    """One documented response: a pydantic model (or a page of them) or another media type."""

    description: str
    model: type[BaseModel] | None = None
    paginated: bool = False  # {"items": [model], "total": n, "next": url | null}
    # paginated by keyset cursors too: the page also has "previous", and "total_capped" (counts
    # stop at a cap)
    keyset: bool = False
    media: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # name → description


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    max_length: int | None = None


@dataclass(frozen=True)
class Operation:
    summary: str
    replies: Mapping[int, Reply]
    description: str = ""
    tag: str = "general"
    body: type[BaseModel] | None = None  # JSON request body
    upload: str | None = None  # multipart/form-data with this file field
    query: type[BaseModel] | None = None  # query parameters
    headers: tuple[Header, ...] = ()
    path_params: Mapping[str, str] = field(default_factory=dict)  # name → description
    errors: tuple[int, ...] = ()
    public: bool = False  # no bearer token needed
    # per token, e.g. "60 per minute", or API_WRITES (CERT_API_WRITE_RATE_LIMIT); see register()
    rate_limit: str | None = None

    @property
    def statuses(self) -> list[int]:
        """Error statuses the operation can answer: the declared ones, and those the kit adds
        (401 and 503 behind a token; 400, 413, 415 and 422 for a JSON body; 422 for query
        parameters and pages; 404 for path parameters, a NUL character in the path included)."""
        auto = [] if self.public else [401, 503]
        if self.body is not None:
            auto += [400, 413, 415, 422]
        if self.query is not None or any(reply.paginated for reply in self.replies.values()):
            auto.append(422)
        if self.path_params:
            auto.append(404)
        return sorted({*self.errors, *auto, *([429] if self.rate_limit else [])})


def operation(**spec: Any) -> Callable[[F], F]:
    """Declare an API view's contract (keyword arguments of :class:`Operation`)."""
    declared = Operation(**spec)

    def mark(view: F) -> F:
        setattr(view, SPEC_ATTRIBUTE, declared)
        return view

    return mark


def spec_of(view: object) -> Operation | None:
    spec = getattr(view, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, Operation) else None


@cache
def page_model(model: type[BaseModel], keyset: bool = False) -> type[BaseModel]:
    """``<Model>Page``: the pagination envelope around ``model`` (``keyset``: with the URL of
    the page before, and whether the total stopped at the list's cap)."""
    fields: dict[str, Any] = {
        "items": (list[model], ...),  # type: ignore[valid-type]
        "total": (int, Field(description="Items matching the filters, over all pages")),
        "next": (str | None, Field(description="URL of the next page, null on the last one")),
    }
    if keyset:
        fields["total"] = (
            int,
            Field(description="Items matching the filters, over all pages, counted up to a cap"),
        )
        fields["total_capped"] = (
            bool,
            Field(description="More items match than the list counts: `total` is its cap"),
        )
        fields["previous"] = (
            str | None,
            Field(description="URL of the page before, null on the first one"),
        )
    page: type[BaseModel] = create_model(
        f"{model.__name__}Page",
        __doc__=f"One page of {model.__name__}; follow `next` until it is null.",
        **fields,
    )
    return page


def reply_model(reply: Reply) -> type[BaseModel] | None:
    """The model of a reply's body: its model, or the page around it."""
    if reply.model is None or not reply.paginated:
        return reply.model
    return page_model(reply.model, reply.keyset)


# ---------------------------------------------------------------- routes
@dataclass(frozen=True)
class Route:
    path: str  # OpenAPI form, /api/v1/incidents/{reference}
    method: str
    endpoint: str
    spec: Operation
    converters: Mapping[str, str]  # path parameter → Werkzeug converter
    operation_id: str

    @property
    def statuses(self) -> list[int]:
        """The operation's error statuses, and 403 for a method that a read-only token may not
        send (every method but GET behind a token)."""
        if self.spec.public or self.method == "get":
            return self.spec.statuses
        return sorted({*self.spec.statuses, 403})


_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def routes(app: Flask, prefix: str) -> Iterator[Route]:
    """Documented (rule, method) pairs under ``prefix``."""
    for rule in app.url_map.iter_rules():
        if rule.rule != prefix and not rule.rule.startswith(prefix + "/"):
            continue
        spec = spec_of(app.view_functions[rule.endpoint])
        if spec is None:
            continue
        converters = {m["name"]: m["converter"] or "default" for m in _ARGUMENT.finditer(rule.rule)}
        path = _ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        methods = sorted((rule.methods or set()) - IGNORED_METHODS)
        for method in methods:
            name = rule.endpoint.removeprefix("api.")
            if len(methods) > 1:
                name += f"_{method.lower()}"
            yield Route(path, method.lower(), rule.endpoint, spec, converters, name)


# ---------------------------------------------------------------- document
def document(
    app: Flask, prefix: str, *, title: str, version: str, description: str = ""
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route under ``prefix``."""
    found = sorted(routes(app, prefix), key=lambda r: (r.path, r.method))
    keys, schemas = models_json_schema(_models(found), ref_template=REF_TEMPLATE)
    refs: dict[type[BaseModel], Any] = {
        model: ref for (model, _mode), ref in keys.items() if issubclass(model, BaseModel)
    }
    components = schemas.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for route in found:
        paths.setdefault(route.path, {})[route.method] = _operation(route, refs, components)
    used = sorted({status for route in found for status in route.statuses})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "tags": [{"name": tag} for tag in sorted({r.spec.tag for r in found})],
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {f"Error{status}": _error_response(status) for status in used},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (the account page, or `cert tokens create`). "
                    "Its scope is chosen when it is created: `read` tokens may only send GET, "
                    "HEAD and OPTIONS (any other method answers 403, `this API token is "
                    "read-only`); `write` tokens may do whatever their user may.",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }


def _models(found: list[Route]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: dict[type[BaseModel], JsonSchemaMode] = {ErrorEnvelope: "serialization"}
    for route in found:
        for model in (route.spec.body, route.spec.query):
            if model is not None:
                wanted[model] = "validation"
        for reply in route.spec.replies.values():
            if (model := reply_model(reply)) is not None:
                wanted[model] = "serialization"
    return list(wanted.items())


def _operation(
    route: Route, refs: Mapping[type[BaseModel], Any], components: Mapping[str, Any]
) -> dict[str, Any]:
    spec = route.spec
    result: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": spec.summary,
        "tags": [spec.tag],
    }
    if spec.description:
        result["description"] = spec.description
    if parameters := _parameters(route, components):
        result["parameters"] = parameters
    if spec.body is not None:
        result["requestBody"] = _content(refs[spec.body], "application/json", required=True)
    elif spec.upload is not None:
        result["requestBody"] = _upload(spec.upload)
    responses: dict[str, Any] = {}
    for status, reply in sorted(spec.replies.items()):
        responses[str(status)] = _reply(reply, refs)
    for status in route.statuses:
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    result["responses"] = responses
    if spec.public:
        result["security"] = []
    return result


def _parameters(route: Route, components: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = route.spec
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": (
                {"type": "integer", "minimum": 0, "maximum": MAX_ID}
                if converter == "int"
                else {"type": "string", "minLength": 1}
            ),
            "description": spec.path_params.get(name, ""),
        }
        for name, converter in route.converters.items()
    ]
    if spec.query is not None:
        parameters += _query_parameters(components[spec.query.__name__])
    if any(reply.paginated for reply in spec.replies.values()):
        parameters += [
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
            _query(
                "offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}
            ),
        ]
    for header in spec.headers:
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if header.max_length is not None:
            schema["maxLength"] = header.max_length
        parameters.append(
            {
                "name": header.name,
                "in": "header",
                "required": False,
                "description": header.description,
                "schema": schema,
            }
        )
    return parameters


def _query_parameters(model_schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    required = set(model_schema.get("required", ()))
    result = []
    for name, prop in model_schema.get("properties", {}).items():
        schema = {k: v for k, v in prop.items() if k not in {"title", "description"}}
        options = [o for o in schema.get("anyOf", ()) if o.get("type") != "null"]
        if len(options) == 1 and schema.get("default", ...) is None:  # Optional[X] = None
            schema = options[0]  # an absent parameter is the "null"
        result.append(_query(name, schema, prop.get("description", ""), name in required))
    return result


def _query(
    name: str, schema: dict[str, Any], description: str = "", required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _content(schema: Mapping[str, Any], media: str, *, required: bool) -> dict[str, Any]:
    return {"required": required, "content": {media: {"schema": dict(schema)}}}


def _upload(field_name: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": [field_name],
        "properties": {
            field_name: {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": "The file (its type is sniffed from the content)",
            }
        },
    }
    return _content(schema, "multipart/form-data", required=True)


def _reply(reply: Reply, refs: Mapping[type[BaseModel], Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"description": reply.description}
    if (model := reply_model(reply)) is not None:
        result["content"] = {reply.media: {"schema": dict(refs[model])}}
    elif reply.media != "application/json":
        result["content"] = {reply.media: {"schema": {"type": "string"}}}
    else:
        result["content"] = {reply.media: {"schema": {"type": "object"}}}
    if reply.headers:
        result["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in reply.headers.items()
        }
    return result


def _error_response(status: int) -> dict[str, Any]:
    envelope = {"$ref": REF_TEMPLATE.format(model=ErrorEnvelope.__name__)}
    response: dict[str, Any] = {
        "description": ERRORS[status],
        "content": {"application/json": {"schema": envelope}},
    }
    if status in {429, 503}:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        }
    return response
