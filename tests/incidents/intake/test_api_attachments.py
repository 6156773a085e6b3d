"""POST /api/v1/incidents/<reference>/attachments: multipart upload, sniffed type, limits and
organisation isolation."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from cert.app import create_app
from core.clock import FrozenClock
from core.identity.models import Role
from incidents.models import Attachment
from tests.kit.api import BOUNDARY, URL, api_user, bearer, envelope, multipart, submit
from tests.kit.factories import make_org

REPORT = b"Connexions suspectes depuis 203.0.113[.]77 vers hxxp://c2.evil[.]example/beacon\n"


def upload(
    client: FlaskClient, reference: str, secret: str, content: bytes = REPORT, name: str = "log.txt"
) -> TestResponse:
    return client.post(
        f"{URL}/{reference}/attachments",
        data=multipart(content, name),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=bearer(secret),
    )


@pytest.fixture
def reference(client: FlaskClient, reporter_token: str) -> str:
    response = submit(client, reporter_token)
    assert response.status_code == 201
    return str(response.get_json()["reference"])


def test_a_file_is_stored_and_described(
    client: FlaskClient,
    db_session: Session,
    settings: dict[str, Any],
    reporter_token: str,
    reference: str,
) -> None:
    response = upload(client, reference, reporter_token, name="../../journal pare-feu.txt")
    assert response.status_code == 201, response.get_data(as_text=True)
    digest = hashlib.sha256(REPORT).hexdigest()
    stored_id = db_session.scalars(select(Attachment.id)).one()
    assert response.get_json() == {
        "id": stored_id,  # what the reporter's answer names (``attachments``)
        "filename": "journal pare-feu.txt",
        "sha256": digest,
        "size": len(REPORT),
        "content_type": "text/plain",
    }
    stored = Path(settings["upload_dir"]) / digest[:2] / digest
    assert stored.read_bytes() == REPORT
    detail = client.get(f"{URL}/{reference}", headers=bearer(reporter_token)).get_json()
    found = {(o["type"], o["value"]) for o in detail["observables"]}
    assert ("ipv4", "203.0.113.77") in found and ("domain", "c2.evil.example") in found
    assert db_session.scalars(select(Attachment.filename)).all() == ["journal pare-feu.txt"]


def test_cert_staff_may_attach_to_any_incident(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reference: str
) -> None:
    analyst = api_user(db_session, clock, role=Role.ANALYST)[1]
    assert upload(client, reference, analyst, b"%PDF-1.7 ...", "rapport.pdf").status_code == 201


def test_another_organisations_incident_is_404_like_a_missing_one(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reference: str
) -> None:
    stranger = api_user(db_session, clock, make_org(db_session, clock, slug="min-sante"))[1]
    hidden = upload(client, reference, stranger)
    missing = upload(client, reference[:-6] + "999999", stranger)
    assert envelope(hidden, 404, "not_found")["message"] == f"no incident {reference}"
    assert envelope(missing, 404, "not_found")["fields"] == {}
    assert db_session.scalars(select(Attachment)).all() == []


def test_a_body_that_is_not_multipart_is_415(
    client: FlaskClient, reporter_token: str, reference: str
) -> None:
    response = client.post(
        f"{URL}/{reference}/attachments", json={"file": "aGVsbG8="}, headers=bearer(reporter_token)
    )
    envelope(response, 415, "unsupported_media_type")


def test_no_file_is_422_naming_it(client: FlaskClient, reporter_token: str, reference: str) -> None:
    response = client.post(
        f"{URL}/{reference}/attachments",
        data={"document": "not a file"},
        content_type="multipart/form-data",
        headers=bearer(reporter_token),
    )
    assert set(envelope(response, 422, "validation_failed")["fields"]) == {"file"}
    empty = upload(client, reference, reporter_token, b"")
    assert set(envelope(empty, 422)["fields"]) == {"file"}


def test_a_file_over_the_limit_is_413_and_leaves_nothing(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    db_session: Session,
    reporter_token: str,
) -> None:
    app = create_app({**settings, "max_upload_mb": 1}, session_factory=session_factory, clock=clock)
    client = app.test_client()
    reference = submit(client, reporter_token).get_json()["reference"]
    response = upload(client, reference, reporter_token, b"A" * (1024 * 1024 + 1), "big.bin")
    envelope(response, 413)
    assert db_session.scalars(select(Attachment)).all() == []
    stored = Path(settings["upload_dir"])
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]
    small = upload(client, reference, reporter_token, b"B" * 1000, "small.bin")
    assert small.status_code == 201


def test_uploads_need_a_token(client: FlaskClient, reference: str) -> None:
    response = client.post(
        f"{URL}/{reference}/attachments",
        data=multipart(REPORT, "log.txt"),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    envelope(response, 401, "unauthorized")


def test_the_intake_upload_limit_is_passed_to_the_service(
    app: Flask, client: FlaskClient, db_session: Session, reporter_token: str, reference: str
) -> None:
    """Below Flask's MAX_CONTENT_LENGTH the service enforces max_upload_bytes itself."""
    app.extensions["incidents"] = replace(app.extensions["incidents"], max_upload_bytes=1000)
    envelope(upload(client, reference, reporter_token, b"C" * 1001), 413, "too_large")
    assert upload(client, reference, reporter_token, b"C" * 1000).status_code == 201
    assert len(db_session.scalars(select(Attachment)).all()) == 1
