"""``/api/v1/mail``: the held-mail queue for CERT staff tokens (a reporter's token finds
nothing: 404), the same use cases as the pages — keyset pages, a message's text and attachments
by name, the three decisions with a 409 the second time and a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.mailbox.models import HoldReason, InboundMail, MailStatus
from incidents.models import Incident
from incidents.settings import IntakeSettings
from tests.incidents.mailbox.held_scene import PASS, audited, held_mail, raw_message
from tests.kit.api import envelope
from tests.kit.factories import report
from tests.kit.world import World

URL = "/api/v1/mail"


@pytest.fixture
def mail(db_session: Session, clock: FrozenClock, mail_settings: IntakeSettings) -> InboundMail:
    raw = raw_message(
        subject="RE: Hameçonnage",
        sender="Leila Berrada <rssi@interieur.gov.ma>",
        body="Voici le courriel reçu : http://evil.example/login et 203.0.113.9\n",
        files=(("capture.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"),),
    )
    return held_mail(db_session, clock, mail_settings, raw, authentication=PASS,
                     reason=HoldReason.UNKNOWN_REFERENCE)  # fmt: skip


@pytest.fixture
def staff(world: World) -> dict[str, str]:
    return world.headers(world.analyst)


def test_reporter_tokens_find_nothing(client: FlaskClient, world: World, mail: InboundMail) -> None:
    headers = world.headers(world.reporter)
    envelope(client.get(URL, headers=headers), 404)
    envelope(client.get(f"{URL}/{mail.id}", headers=headers), 404)
    for action in ("incident", "attach", "discard"):
        response = client.post(f"{URL}/{mail.id}/{action}", json={}, headers=headers)
        envelope(response, 404)
    envelope(client.get(URL), 401)
    assert mail.status is MailStatus.HELD


def test_the_list_pages_by_keyset_and_filters(
    client: FlaskClient, db_session: Session, clock: FrozenClock, mail_settings: IntakeSettings,
    staff: dict[str, str], mail: InboundMail,
) -> None:  # fmt: skip
    newer = [held_mail(db_session, clock, mail_settings, raw_message(subject=f"n°{i}"),
                       reason=HoldReason.AUTO_REPLY) for i in range(2)]  # fmt: skip
    held_mail(db_session, clock, mail_settings, status=MailStatus.DISCARDED)
    body = client.get(f"{URL}?limit=2", headers=staff).get_json()
    assert [m["id"] for m in body["items"]] == [newer[1].id, newer[0].id]
    assert body["total"] == 3 and body["next"]
    rest = client.get(body["next"], headers=staff).get_json()
    assert [m["id"] for m in rest["items"]] == [mail.id] and rest["next"] is None
    item = rest["items"][0]
    assert item["hold_reason"] == "unknown_reference" and item["status"] == "held"
    assert item["from_address"] == "rssi@interieur.gov.ma"
    assert item["authentication"]["dmarc"] == "pass"
    autos = client.get(f"{URL}?reason=auto_reply", headers=staff).get_json()
    assert {m["id"] for m in autos["items"]} == {n.id for n in newer}
    handled = client.get(f"{URL}?status=handled", headers=staff).get_json()
    assert handled["total"] == 1
    error = envelope(client.get(f"{URL}?status=nope&limit=0&colour=red", headers=staff), 422)
    assert {"status", "limit", "colour"} <= set(error["fields"])


def test_a_message_with_its_text_and_files_by_name(
    client: FlaskClient, staff: dict[str, str], mail: InboundMail
) -> None:
    body = client.get(f"{URL}/{mail.id}", headers=staff).get_json()
    assert "http://evil.example/login" in body["text"]
    assert body["to"] == ["cert@example.test"]
    [part] = body["attachments"]
    assert part["filename"] == "capture.png" and part["declared_type"] == "image/png"
    assert "content" not in part
    envelope(client.get(f"{URL}/999999", headers=staff), 404)


def test_discard_then_409(
    client: FlaskClient, db_session: Session, world: World, staff: dict[str, str],
    mail: InboundMail,
) -> None:  # fmt: skip
    response = client.post(f"{URL}/{mail.id}/discard", json={"note": "Spam"}, headers=staff)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["mail"]["status"] == "discarded" and body["incident"] is None
    assert body["mail"]["handled_by"] == world.analyst.email
    again = client.post(f"{URL}/{mail.id}/discard", json={}, headers=staff)
    assert "handled already" in envelope(again, 409, "conflict")["message"]
    assert len(audited(db_session, "mail.discard")) == 1


def test_bad_bodies_name_the_field(
    client: FlaskClient, staff: dict[str, str], mail: InboundMail
) -> None:
    def error(action: str, body: dict[str, Any]) -> set[str]:
        response = client.post(f"{URL}/{mail.id}/{action}", json=body, headers=staff)
        return set(envelope(response, 422)["fields"])

    assert error("incident", {}) == {"organisation"}
    assert error("incident", {"organisation": "min-nowhere"}) == {"organisation"}
    assert error("incident", {"organisation": "min-interieur", "tlp": "TLP:PINK"}) == {"tlp"}
    assert error("incident", {"organisation": "min-interieur", "colour": 1}) == {"colour"}
    assert error("attach", {"reference": "MACERT-2026-999999"}) == {"reference"}
    assert error("discard", {"note": "x" * 501}) == {"note"}
    assert mail.status is MailStatus.HELD


def test_make_an_incident_then_409(
    client: FlaskClient, db_session: Session, world: World, staff: dict[str, str],
    mail: InboundMail, smtp: Any,
) -> None:  # fmt: skip
    assert world.reporter.email == "rssi@interieur.gov.ma"  # the sender: a contact, acknowledged
    body = {"organisation": world.interieur.slug, "tlp": "TLP:GREEN", "note": "Vu avec le RSSI",
            "acknowledge": True}  # fmt: skip
    response = client.post(f"{URL}/{mail.id}/incident", json=body, headers=staff)
    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert out["mail"]["status"] == "incident"
    reference = out["incident"]["reference"]
    assert out["mail"]["incident"] == reference
    incident = db_session.scalars(select(Incident).where(Incident.reference == reference)).one()
    assert incident.title == "Hameçonnage" and incident.tlp.value == "TLP:GREEN"
    assert incident.organisation_id == world.interieur.id
    [entry] = audited(db_session, "mail.incident")
    assert entry.actor_id == world.analyst.id and entry.after["incident"] == reference
    again = client.post(f"{URL}/{mail.id}/attach", json={"reference": reference}, headers=staff)
    envelope(again, 409, "conflict")


def test_attach_to_an_incident(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World,
    staff: dict[str, str], mail: InboundMail,
) -> None:  # fmt: skip
    incident = report(db_session, clock, world.reporter)
    body = {"reference": incident.reference.lower(), "note": "La réponse du RSSI"}
    response = client.post(f"{URL}/{mail.id}/attach", json=body, headers=staff)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["mail"]["status"] == "reply"
    [entry] = audited(db_session, "mail.reply")
    assert entry.after == {"status": "reply", "incident": incident.reference,
                           "note": "La réponse du RSSI"}  # fmt: skip


def test_the_routes_are_documented(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/mail"]) == {"get"}
    assert set(paths["/api/v1/mail/{mail_id}"]) == {"get"}
    for action in ("incident", "attach", "discard"):
        operation = paths[f"/api/v1/mail/{{mail_id}}/{action}"]["post"]
        assert operation["tags"] == ["mailbox"]
        assert {"404", "409", "422"} <= set(operation["responses"])
    schemas = document["components"]["schemas"]
    assert {"MailOut", "MailDetailOut", "MailIncidentIn", "MailDecisionOut"} <= set(schemas)


def test_an_analyst_making_a_red_incident_no_longer_sees_it(
    client: FlaskClient, world: World, staff: dict[str, str], mail: InboundMail
) -> None:
    body = {"organisation": world.interieur.slug, "tlp": "TLP:RED"}
    response = client.post(f"{URL}/{mail.id}/incident", json=body, headers=staff)
    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert out["incident"] is None and out["mail"]["status"] == "incident"
    reference = out["mail"]["incident"]
    envelope(client.get(f"{URL}/{mail.id}", headers=staff), 404)
    envelope(client.get(f"/api/v1/incidents/{reference}", headers=staff), 404)
    lead = world.headers(world.lead)
    assert client.get(f"{URL}/{mail.id}", headers=lead).get_json()["incident"] == reference
    assert client.get(f"{URL}?status=handled", headers=staff).get_json()["total"] == 0
    assert client.get(f"{URL}?status=handled", headers=lead).get_json()["total"] == 1
