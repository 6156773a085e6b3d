"""The OpenAPI document says what the API does, and the API does what it says: the statuses
every JSON operation can answer, the rules a schema can express (enums without an empty member,
bounded pages and ids, the RSIT list) and links a client can follow with GET."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.inputs import MAX_ID, MAX_OFFSET
from core.markings import Pap, Tlp
from incidents.rules.taxonomy import rsit_classes
from tests.incidents.openapi_helpers import operations, resolve
from tests.kit.api import PHISHING, bearer, envelope
from tests.kit.factories import make_token
from tests.kit.world import World

RSIT_TYPES = {t.id for c in rsit_classes().values() for t in c.types}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return body


def _schema(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A parameter or property schema, its ``$ref`` and ``Optional`` resolved."""
    if "$ref" in node:
        node = resolve(document, node["$ref"])
    options = [o for o in node.get("anyOf", ()) if o.get("type") != "null"]
    return _schema(document, options[0]) if len(options) == 1 else node


def test_every_json_operation_documents_malformed_and_oversized_bodies(
    document: dict[str, Any],
) -> None:
    posts = [(p, op) for p, m, op in operations(document) if "requestBody" in op]
    assert len(posts) >= 12
    for path, op in posts:
        media = set(op["requestBody"]["content"])
        expected = {"413", "415", "422"} | ({"400"} if "application/json" in media else set())
        assert expected <= set(op["responses"]), path


def test_classification_and_markings_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    listing = document["paths"]["/api/v1/incidents"]["get"]["parameters"]
    # the list's filters take several values (arrays): their items are the enums
    query = {p["name"]: _schema(document, p["schema"].get("items", p["schema"])) for p in listing}
    body = {k: _schema(document, v) for k, v in schemas["IncidentSubmission"]["properties"].items()}
    for where in (query, body):
        assert set(where["category"]["enum"]) == set(rsit_classes())
        assert set(where["type"]["enum"]) == RSIT_TYPES
        assert where["tlp"]["enum"] == [t.value for t in Tlp]
    assert body["pap"]["enum"] == [p.value for p in Pap]


def test_numbers_are_bounded_in_the_document(document: dict[str, Any]) -> None:
    for path, _method, op in operations(document):
        for parameter in op.get("parameters", ()):
            schema = parameter["schema"]
            if parameter["name"] == "offset":
                assert (schema["minimum"], schema["maximum"]) == (0, MAX_OFFSET), path
            if parameter["name"] == "limit":
                assert (schema["minimum"], schema["maximum"]) == (1, 100), path
            if parameter["in"] == "path" and schema.get("type") == "integer":
                assert schema["maximum"] == MAX_ID, path
    listing = document["paths"]["/api/v1/incidents"]["get"]["parameters"]
    before = next(p for p in listing if p["name"] == "received_before")
    assert "later than received_after" in before["description"]


@pytest.mark.parametrize("name", ["status", "category", "type", "priority", "tlp", "q"])
def test_an_empty_filter_is_refused_as_the_document_has_no_empty_value(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    document: dict[str, Any],
    name: str,
    world: World,
) -> None:
    listing = document["paths"]["/api/v1/incidents"]["get"]["parameters"]
    schema = next(p for p in listing if p["name"] == name)["schema"]
    schema = _schema(document, schema.get("items", schema))  # a list filter: its values
    assert "" not in schema.get("enum", ()) and schema.get("minLength", 1) >= 1
    secret = make_token(db_session, clock, world.lead)[1]
    error = envelope(client.get(f"/api/v1/incidents?{name}=", headers=bearer(secret)), 422)
    assert name in error["fields"]


def test_every_link_of_an_incident_answers_get(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    secret = make_token(db_session, clock, world.reporter)[1]
    created = client.post("/api/v1/incidents", json=PHISHING, headers=bearer(secret))
    assert created.status_code == 201
    links = created.get_json()["links"]
    assert set(links) == {"self", "track"}
    assert client.get(links["self"], headers=bearer(secret)).status_code == 200
    # /track is the reporter's web page: a browser without a session is sent to sign in
    assert client.get(links["track"]).status_code in {200, 302}
