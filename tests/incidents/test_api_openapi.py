"""The OpenAPI 3.1 document and the rendered reference: checked against the live URL map and the
pydantic models that validate requests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.api import UserOut
from incidents.intake.schemas import IncidentOut, IncidentSubmission
from incidents.queue.filter import QueueFilter
from tests.incidents.openapi_helpers import operations, resolve

PREFIX = "/api/v1"


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")  # no token: the document is public
    assert response.status_code == 200 and response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_every_api_route_is_documented_and_nothing_else(
    app: Flask, document: dict[str, Any]
) -> None:
    live = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            live |= {(path, m.lower()) for m in rule.methods or () if m not in {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, method, _ in operations(document)}
    assert documented == live
    assert {
        ("/api/v1/incidents", "post"),
        ("/api/v1/incidents", "get"),
        ("/api/v1/incidents/{reference}", "get"),
        ("/api/v1/incidents/{reference}/attachments", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/docs", "get"),
    } <= live


def test_the_document_is_well_formed(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert document["security"] == [{"bearerAuth": []}]
    for ref in refs(document):
        resolve(document, ref)
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    tags = {tag["name"] for tag in document["tags"]}
    for path, _method, op in operations(document):
        assert op["summary"] and op["responses"] and set(op["tags"]) <= tags
        assert all(re.fullmatch(r"[1-5]\d\d", status) for status in op["responses"])
        declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path))
        for parameter in op.get("parameters", ()):
            assert parameter["in"] in {"path", "query", "header", "cookie"}
            assert "schema" in parameter and isinstance(parameter["required"], bool)
            if parameter["in"] == "path":
                assert parameter["required"] is True
        if op.get("security") != []:
            assert "401" in op["responses"] and "503" in op["responses"]


def test_errors_are_described_with_the_envelope(document: dict[str, Any]) -> None:
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    body = resolve(document, envelope["properties"]["error"]["$ref"])
    assert set(body["properties"]) == {"code", "message", "fields"}
    for _path, _method, op in operations(document):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                described = resolve(document, response["$ref"])
                schema = described["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
    create = document["paths"]["/api/v1/incidents"]["post"]["responses"]
    assert {"400", "401", "409", "413", "415", "422", "429", "503"} <= set(create)


def test_schemas_are_the_validating_pydantic_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    create = document["paths"]["/api/v1/incidents"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    submission = resolve(document, body["$ref"])
    assert submission == schemas["IncidentSubmission"]
    assert set(submission["properties"]) == set(IncidentSubmission.model_fields)
    assert submission["additionalProperties"] is False
    assert set(submission["required"]) == {"title", "description", "category"}
    assert set(schemas["IncidentOut"]["properties"]) == set(IncidentOut.model_fields)
    assert set(schemas["UserOut"]["properties"]) == set(UserOut.model_fields)
    created = create["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IncidentOut"
    }
    assert "Location" in created["headers"] and "200" in create["responses"]
    [key] = [p for p in create["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key" and key["schema"]["maxLength"] == 200


def test_the_list_documents_its_filters_and_page(document: dict[str, Any]) -> None:
    """The list's parameters are the queue's filter language (one model), plus the page."""
    listing = document["paths"]["/api/v1/incidents"]["get"]
    query = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert query == set(QueueFilter.model_fields) | {"limit", "offset"}
    page = resolve(
        document, listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(page["properties"]) == {"items", "total", "total_capped", "next", "previous"}
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/IncidentOut"}
    row = resolve(document, "#/components/schemas/IncidentOut")
    assert {"centre", "shares", "reference"} <= set(row["properties"])  # null for reporters
    parameters = {p["name"]: p for p in listing["parameters"]}
    status = parameters["status"]["schema"]
    assert status["type"] == "array" and {"open", "new"} <= set(status["items"]["enum"])
    assert "-received" in parameters["sort"]["schema"]["enum"]
    assert "403" in listing["responses"] and "422" in listing["responses"]
    received = parameters["received_after"]
    assert received["schema"] == {"type": "string", "format": "date-time"}
    assert parameters["received_from"]["schema"] == {"type": "string", "format": "date"}


def test_the_upload_is_multipart_with_a_file(document: dict[str, Any]) -> None:
    attach = document["paths"]["/api/v1/incidents/{reference}/attachments"]["post"]
    schema = attach["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert {"201", "404", "413", "415", "422"} <= set(attach["responses"])


def test_the_reference_page_renders_the_document_without_scripts_or_cdn(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    response = client.get(f"{PREFIX}/docs")  # no token: readable in a browser
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path, method, op in operations(document):
        assert f"{method.upper()}</span> <code>{path}</code>" in html
        assert op["summary"].replace("'", "&#39;") in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "Idempotency-Key" in html and "received_after" in html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)  # nothing from a CDN
    assert " style=" not in html and " on" + "click=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
