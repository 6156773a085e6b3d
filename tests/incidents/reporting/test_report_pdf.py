"""The PDF incident report: a download for those who may see the incident, staff and reporter
versions, the TLP label on every page, French and Arabic text (both backends)."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.intake.service import add_event
from tests.incidents.reporting.scenario import Scenario, build
from tests.kit.factories import PASSWORD
from tests.kit.web import login, logout


@pytest.fixture
def scenario(db_session: Session, clock: FrozenClock) -> Scenario:
    made = build(db_session, clock)
    incident = made.incidents["E"]  # TLP:AMBER, of the health ministry
    incident.description = "Courriel frauduleux reçu par la direction ; وصلت رسالة احتيالية"
    staff = Actor.for_user(made.lead)
    add_event(
        db_session,
        incident,
        staff,
        "comment",
        clock=clock,
        data={"body": "<p>Note interne secrète</p>"},
    )
    add_event(
        db_session,
        incident,
        staff,
        "reply",
        clock=clock,
        public=True,
        data={"body": "<p>Merci, nous analysons.</p>"},
    )
    db_session.flush()
    return made


def pages(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.get_data()
    assert data.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def url(scenario: Scenario, name: str, lang: str = "fr") -> str:
    return f"/incidents/{scenario.incidents[name].reference}/report.pdf?lang={lang}"


def test_staff_get_the_full_report_with_the_tlp_label_on_every_page(
    client: FlaskClient, scenario: Scenario
) -> None:
    login(client, scenario.lead.email, PASSWORD)
    texts = pages(client.get(url(scenario, "E")))
    reference = scenario.incidents["E"].reference
    assert all("TLP:AMBER" in page for page in texts)
    whole = "\n".join(texts)
    assert reference in whole and "Courriel frauduleux" in whole
    assert "Note interne secrète" in whole and "Merci, nous analysons." in whole


def test_reporters_get_the_reporter_version(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.reporter_sante.email, PASSWORD)
    whole = "\n".join(pages(client.get(url(scenario, "E"))))
    assert "Merci, nous analysons." in whole
    assert "Note interne secrète" not in whole


def test_the_arabic_report_keeps_the_arabic_text(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.lead.email, PASSWORD)
    whole = "\n".join(pages(client.get(url(scenario, "E", "ar"))))
    assert "TLP:AMBER" in whole
    # pypdf gives the glyphs in visual order; the words are there either way
    assert "احتيالية" in whole or "ةيلايتحا" in whole or "احتيالية"[::-1] in whole


def test_those_who_cannot_see_the_incident_get_404(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.reporter_sante.email, PASSWORD)
    assert client.get(url(scenario, "A")).status_code == 404  # another ministry's
    logout(client)
    login(client, scenario.analyst.email, PASSWORD)
    assert client.get(url(scenario, "D")).status_code == 404  # TLP:RED, not named on it
