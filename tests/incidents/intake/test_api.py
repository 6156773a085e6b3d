"""POST /api/v1/incidents through the test client, on SQLite and PostgreSQL: the happy path, bad
input for every field and the error envelope (400, 401, 413, 415, 422).

The helpers are in :mod:`tests.kit.api`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from core.mail_compose import rendered
from core.outbox import OutboxMessage
from tests.kit.api import PHISHING, URL, bearer, envelope, incident_count, submit
from tests.kit.factories import make_org


# ---------------------------------------------------------------- happy path
def test_a_submission_is_created_classified_and_acknowledged(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter_token: str
) -> None:
    response = submit(client, reporter_token)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    reference = f"MACERT-{clock.now().year}-000001"
    assert response.headers["Location"] == f"{URL}/{reference}"
    assert body["reference"] == reference
    assert (body["status"], body["priority"], body["category"], body["type"]) == (
        "new",
        "P2",
        "fraud",
        "phishing",
    )
    assert (body["tlp"], body["pap"], body["organisation"]) == (
        "TLP:AMBER",
        "PAP:AMBER",
        "min-interieur",
    )
    assert {(o["type"], o["value"]) for o in body["observables"]} == {
        ("email", "securite@interieur-gov.ma"),
        ("domain", "interieur-gov.ma"),
        ("url", "https://webmail-interieur.com/login.php"),
        ("domain", "webmail-interieur.com"),
        ("ipv4", "185.220.101.4"),
    }
    assert all(set(o) == {"type", "value"} for o in body["observables"])
    assert body["links"] == {
        "self": f"{URL}/{reference}",
        "track": f"/track/{reference}",
    }
    received = dt.datetime.fromisoformat(body["received_at"])
    assert received == clock.now()
    assert dt.datetime.fromisoformat(body["acknowledge_by"]) == received + dt.timedelta(hours=4)
    assert dt.datetime.fromisoformat(body["resolve_by"]) == received + dt.timedelta(days=3)
    assert body["possible_duplicates"] == [] and body["early_warning_by"] is None
    mail = db_session.scalars(select(OutboxMessage)).one()
    assert mail.to_addr == "rssi@interieur.gov.ma" and reference in rendered(mail)[0]
    assert (mail.related_type, mail.related_id) == ("incident", reference)
    assert incident_count(db_session) == 1


def test_explicit_observables_defaults_and_significant_deadlines(
    client: FlaskClient, clock: FrozenClock, reporter_token: str
) -> None:
    detected = clock.now() - dt.timedelta(hours=2)
    body = {
        "title": "Rançongiciel sur le serveur de fichiers",
        "description": "Les partages sont chiffrés.",
        "category": "Malicious-Code",
        "tlp": "red",
        "pap": "pap:green",
        "impact": "critical",
        "urgency": "critical",
        "significant": True,
        "detected_at": detected.isoformat(),
        "affected_assets": ["srv-fichiers-01", "dc01.interieur.local"],
        "users_affected": 120,
        "systems_affected": 3,
        "reporter_state": "contained",
        "actions_taken": "Serveur isolé du réseau.",
        "observables": [
            {
                "type": "sha256",
                "value": "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
            },
            {"type": "domain", "value": "evil[.]example"},
            {"type": "cve", "value": "cve-2024-3400"},
        ],
        "source_ref": "SOC-2026-17",
        "contact": {
            "name": "Salma",
            "phone": "+212 5 37 00 00 00",
            "email": "soc@interieur.gov.ma",
        },
    }
    response = submit(client, reporter_token, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.get_json()
    assert (out["category"], out["type"], out["tlp"], out["pap"], out["priority"]) == (
        "malicious-code",
        None,
        "TLP:RED",
        "PAP:GREEN",
        "P1",
    )
    assert {(o["type"], o["value"]) for o in out["observables"]} == {
        ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        ("domain", "evil.example"),
        ("cve", "CVE-2024-3400"),
    }
    assert out["significant"] is True and out["source_ref"] == "SOC-2026-17"
    assert dt.datetime.fromisoformat(out["early_warning_by"]) == detected + dt.timedelta(hours=24)
    assert dt.datetime.fromisoformat(out["notification_by"]) == detected + dt.timedelta(hours=72)


# ---------------------------------------------------------------- bad input
TOO_LONG = "x" * 301
BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("title", "", "title"),
    ("title", "ab", "title"),
    ("title", TOO_LONG, "title"),
    ("title", None, "title"),
    ("description", "   ", "description"),
    ("description", 42, "description"),
    ("category", "nope", "category"),
    ("category", 3, "category"),
    ("type", "ddos", "type"),  # a real type, but not of the class "fraud"
    ("type", "nope", "type"),
    ("tlp", "TLP:PURPLE", "tlp"),
    ("pap", "PAP:PURPLE", "pap"),
    ("impact", "huge", "impact"),
    ("urgency", "soon", "urgency"),
    ("significant", "maybe", "significant"),
    ("detected_at", "yesterday", "detected_at"),
    ("detected_at", "2026-01-15T08:00:00", "detected_at"),  # no timezone
    ("reported_at", "2026-13-01T00:00:00Z", "reported_at"),
    ("affected_assets", "srv-01", "affected_assets"),
    ("affected_assets", ["srv-01", ""], "affected_assets[1]"),
    ("affected_assets", ["a"] * 201, "affected_assets"),
    ("users_affected", -1, "users_affected"),
    ("users_affected", "many", "users_affected"),
    ("systems_affected", -5, "systems_affected"),
    ("reporter_state", "panicking", "reporter_state"),
    ("actions_taken", "x" * 20_001, "actions_taken"),
    ("observables", {"type": "ipv4"}, "observables"),
    ("observables", [{"type": "ipv4", "value": "999.1.1.1"}], "observables[0]"),
    ("observables", [{"type": "colour", "value": "red"}], "observables[0]"),
    ("observables", [{"type": "md5", "value": "abc"}], "observables[0]"),
    ("observables", [{"type": "ipv4"}], "observables[0].value"),
    ("observables", [{"type": "ipv4", "value": "1.2.3.4", "seen": 1}], "observables[0].seen"),
    ("source_ref", "", "source_ref"),
    ("source_ref", "r" * 201, "source_ref"),
    ("contact", "Salma", "contact"),
    ("contact", {"email": "not-an-address"}, "contact.email"),
    ("contact", {"phone": "call me"}, "contact.phone"),
    ("contact", {"name": "n" * 201}, "contact.name"),
    ("contact", {"fax": "+212"}, "contact.fax"),
    ("organisation", "min-sante", "organisation"),  # reporters report for their own only
    ("colour", "red", "colour"),  # unknown fields are refused
]


@pytest.mark.parametrize(("field", "value", "named"), BAD_FIELDS)
def test_each_invalid_field_is_named(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    reporter_token: str,
    field: str,
    value: Any,
    named: str,
) -> None:
    make_org(db_session, clock, slug="min-sante")
    response = submit(client, reporter_token, {**PHISHING, field: value})
    error = envelope(response, 422, "validation_failed")
    assert set(error["fields"]) == {named}
    assert incident_count(db_session) == 0


@pytest.mark.parametrize("field", ["title", "description", "category"])
def test_required_fields_are_named_when_missing(
    client: FlaskClient, reporter_token: str, field: str
) -> None:
    body = {k: v for k, v in PHISHING.items() if k != field}
    assert set(envelope(submit(client, reporter_token, body), 422)["fields"]) == {field}


def test_every_invalid_field_is_named_in_one_answer(
    client: FlaskClient, db_session: Session, reporter_token: str
) -> None:
    body = {
        **PHISHING,
        "title": "",
        "category": "nope",
        "tlp": "purple",
        "observables": [
            {"type": "ipv4", "value": "1.2.3.4"},
            {"type": "domain", "value": "ok.example"},
            {"type": "ipv4", "value": "300.1.1.1"},
        ],
        "contact": {"email": "nobody"},
        "colour": "red",
    }
    response = submit(client, reporter_token, body, **{"Idempotency-Key": "k" * 201})
    fields = envelope(response, 422)["fields"]
    assert set(fields) == {
        "title",
        "category",
        "tlp",
        "observables[2]",
        "contact.email",
        "colour",
        "Idempotency-Key",
    }
    assert incident_count(db_session) == 0


def test_labels_and_rsit_errors_list_the_valid_values(
    client: FlaskClient, reporter_token: str
) -> None:
    tlp = envelope(submit(client, reporter_token, {**PHISHING, "tlp": "TLP:WHITE+"}), 422)["fields"]
    assert all(label in tlp["tlp"] for label in ("TLP:CLEAR", "TLP:AMBER+STRICT", "TLP:RED"))
    pap = envelope(submit(client, reporter_token, {**PHISHING, "pap": "blue"}), 422)["fields"]
    assert "PAP:CLEAR" in pap["pap"] and "PAP:RED" in pap["pap"]
    category = envelope(submit(client, reporter_token, {**PHISHING, "category": "spam"}), 422)[
        "fields"
    ]
    assert "malicious-code" in category["category"] and "fraud" in category["category"]
    rsit_type = envelope(submit(client, reporter_token, {**PHISHING, "type": "ddos"}), 422)[
        "fields"
    ]
    assert "phishing" in rsit_type["type"]


def test_the_body_must_be_a_json_object(client: FlaskClient, reporter_token: str) -> None:
    assert set(envelope(submit(client, reporter_token, [PHISHING]), 422)["fields"]) == {"body"}


def test_malformed_json_is_400(client: FlaskClient, reporter_token: str) -> None:
    response = client.post(
        URL, data='{"title": "x",', content_type="application/json", headers=bearer(reporter_token)
    )
    envelope(response, 400, "bad_request")


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", None])
def test_a_body_that_is_not_json_is_415(
    client: FlaskClient, reporter_token: str, content_type: str | None
) -> None:
    response = client.post(
        URL, data="title=x", content_type=content_type, headers=bearer(reporter_token)
    )
    envelope(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer vig_wrong"}])
def test_without_a_valid_token_it_is_401(
    client: FlaskClient, db_session: Session, headers: dict[str, str]
) -> None:
    response = client.post(URL, json=PHISHING, headers=headers)
    envelope(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert incident_count(db_session) == 0


def test_an_oversized_body_is_413(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    db_session: Session,
    reporter_token: str,
) -> None:
    app = create_app({**settings, "max_upload_mb": 1}, session_factory=session_factory, clock=clock)
    body = {**PHISHING, "description": "x" * (1024 * 1024)}
    envelope(submit(app.test_client(), reporter_token, body), 413)
    assert incident_count(db_session) == 0
