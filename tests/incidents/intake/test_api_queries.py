"""GET /api/v1/incidents and /api/v1/incidents/<reference>: pagination, filters, organisation
isolation (filtered in SQL) and a constant number of queries per page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.models import Organisation
from incidents.models import IncidentStatus
from incidents.settings import IntakeSettings
from tests.kit.api import URL, bearer, envelope
from tests.kit.factories import report

SETTINGS = IntakeSettings()


def references(client: FlaskClient, secret: str, query: str = "") -> list[str]:
    response = client.get(f"{URL}?{query}", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["reference"] for item in response.get_json()["items"]]


# ---------------------------------------------------------------- list
def test_the_list_is_newest_first_in_the_envelope(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    reporter_token: str,
) -> None:
    made = [report(db_session, clock, interieur).reference for _ in range(3)]
    body = client.get(URL, headers=bearer(reporter_token)).get_json()
    assert set(body) == {"items", "total", "total_capped", "next", "previous"}
    assert [item["reference"] for item in body["items"]] == made[::-1]
    assert body["total"] == 3 and body["next"] is None
    first = body["items"][0]
    assert first["organisation"] == "min-interieur" and first["links"]["self"].endswith(made[-1])
    assert {"type", "value"} == set(first["observables"][0])


def test_pagination_walks_every_incident_once(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    reporter_token: str,
) -> None:
    made = [report(db_session, clock, interieur).reference for _ in range(7)]
    page = client.get(f"{URL}?limit=3", headers=bearer(reporter_token)).get_json()
    assert page["total"] == 7 and page["next"].startswith(f"{URL}?after=")  # a keyset cursor
    assert page["previous"] is None
    seen = [item["reference"] for item in page["items"]]
    while page["next"]:
        page = client.get(page["next"], headers=bearer(reporter_token)).get_json()
        seen += [item["reference"] for item in page["items"]]
    assert seen == made[::-1]


def test_filters_keep_their_values_in_the_next_link(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    reporter_token: str,
) -> None:
    for _ in range(3):
        report(db_session, clock, interieur, impact="low", urgency="low")
    page = client.get(f"{URL}?priority=P4&limit=2", headers=bearer(reporter_token)).get_json()
    assert page["total"] == 3 and "priority=P4" in page["next"]


@pytest.fixture
def mixed(
    db_session: Session, clock: FrozenClock, interieur: Organisation, sante: Organisation
) -> dict[str, str]:
    """Incidents of two ministries with different classification, TLP, priority and status."""
    made = {
        "phishing": report(db_session, clock, interieur),
        "ransomware": report(
            db_session,
            clock,
            interieur,
            title="Rançongiciel LockBit sur le DC",
            category="malicious-code",
            type="infected-system",
            tlp="TLP:RED",
            impact="critical",
            urgency="critical",
        ),
        "scan": report(
            db_session,
            clock,
            interieur,
            title="Balayage de ports",
            category="information-gathering",
            type="scanner",
            tlp="TLP:CLEAR",
            impact="low",
            urgency="low",
        ),
        "sante": report(db_session, clock, sante, title="Phishing à la Santé"),
    }
    made["scan"].status = IncidentStatus.TRIAGED
    db_session.flush()
    return {name: incident.reference for name, incident in made.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"phishing", "ransomware", "scan"}),
        ("status=new", {"phishing", "ransomware"}),
        ("status=triaged", {"scan"}),
        ("status=open", {"phishing", "ransomware", "scan"}),
        ("status=new&status=triaged", {"phishing", "ransomware", "scan"}),
        ("status=resolved,triaged", {"scan"}),
        ("category=malicious-code", {"ransomware"}),
        ("category=FRAUD&type=phishing", {"phishing"}),
        ("type=scanner", {"scan"}),
        ("priority=P1", {"ransomware"}),
        ("priority=P4", {"scan"}),
        ("tlp=red", {"ransomware"}),
        ("tlp=TLP:CLEAR", {"scan"}),
        ("q=lockbit", {"ransomware"}),
        ("q=ports", {"scan"}),
        ("q=phishing", {"phishing"}),  # never the other ministry's "Phishing à la Santé"
        ("q=50%25", set()),  # LIKE wildcards are escaped
        ("organisation=min-interieur", {"phishing", "ransomware", "scan"}),
        ("organisation=min-sante", set()),  # reporters never reach another ministry
    ],
)
def test_reporters_filter_their_own_incidents(
    client: FlaskClient, reporter_token: str, mixed: dict[str, str], query: str, expected: set[str]
) -> None:
    names = {reference: name for name, reference in mixed.items()}
    assert {names[ref] for ref in references(client, reporter_token, query)} == expected


def test_received_after_and_before_bound_the_dates(
    client: FlaskClient,
    lead_token: str,
    analyst_token: str,
    mixed: dict[str, str],
    clock: FrozenClock,
) -> None:
    end = clock.now()  # the four incidents came in at end - 4, 3, 2 and 1 minutes
    query = {
        "received_after": (end - dt.timedelta(minutes=3)).isoformat(),  # inclusive
        "received_before": (end - dt.timedelta(minutes=1)).isoformat(),  # exclusive
    }
    response = client.get(URL, query_string=query, headers=bearer(lead_token))
    got = [item["reference"] for item in response.get_json()["items"]]
    assert got == [mixed["scan"], mixed["ransomware"]]
    # the ransomware report is TLP:RED: an analyst who is neither assignee nor participant
    # does not get it, in the list or in its count
    response = client.get(URL, query_string=query, headers=bearer(analyst_token))
    assert [item["reference"] for item in response.get_json()["items"]] == [mixed["scan"]]
    assert response.get_json()["total"] == 1


def test_the_reference_prefix_finds_an_incident(
    client: FlaskClient, reporter_token: str, mixed: dict[str, str]
) -> None:
    assert references(client, reporter_token, f"q={mixed['scan'].lower()}") == [mixed["scan"]]


def test_cert_staff_see_every_organisation_and_may_filter_on_one(
    client: FlaskClient, lead_token: str, analyst_token: str, mixed: dict[str, str]
) -> None:
    assert set(references(client, lead_token)) == set(mixed.values())
    # analysts see everything but the TLP:RED ransomware report they are not named on
    assert set(references(client, analyst_token)) == set(mixed.values()) - {mixed["ransomware"]}
    assert references(client, analyst_token, "organisation=min-sante") == [mixed["sante"]]
    assert references(client, analyst_token, "organisation=min-nulle-part") == []


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("category=spam", "category"),
        ("type=nope", "type"),
        ("priority=P9", "priority"),
        ("tlp=purple", "tlp"),
        ("organisation=Min Sante", "organisation"),
        ("received_after=yesterday", "received_after"),
        ("received_after=2026-01-01T00:00:00", "received_after"),  # no timezone
        (
            "received_after=2026-02-01T00:00:00Z&received_before=2026-01-01T00:00:00Z",
            "received_before",
        ),
        ("q=" + "x" * 201, "q"),
        ("stauts=new", "stauts"),  # unknown parameters are refused, not ignored
        ("sla=breached&sla=due_soon", "sla"),  # one value only
        ("limit=0", "limit"),
        ("limit=500", "limit"),
        ("offset=-3", "offset"),
        ("status=", "status"),  # an empty value is refused: the document's enum has none
        ("q=", "q"),
    ],
)
def test_invalid_filters_are_422_naming_the_parameter(
    client: FlaskClient, reporter_token: str, query: str, named: str
) -> None:
    response = client.get(f"{URL}?{query}", headers=bearer(reporter_token))
    assert set(envelope(response, 422, "validation_failed")["fields"]) == {named}


def test_every_invalid_parameter_is_named_at_once(client: FlaskClient, reporter_token: str) -> None:
    response = client.get(
        f"{URL}?status=x&tlp=y&limit=0&colour=red", headers=bearer(reporter_token)
    )
    assert set(envelope(response, 422)["fields"]) == {"status", "tlp", "limit", "colour"}


def test_the_list_needs_a_token(client: FlaskClient) -> None:
    envelope(client.get(URL), 401, "unauthorized")


def test_a_page_costs_the_same_queries_whatever_its_size(
    client: FlaskClient,
    connection: Connection,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    reporter_token: str,
) -> None:
    def count_selects() -> int:
        statements: list[str] = []

        def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            statements.append(statement)

        event.listen(connection, "before_cursor_execute", record)
        try:
            assert client.get(URL, headers=bearer(reporter_token)).status_code == 200
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return sum(s.lstrip().upper().startswith("SELECT") for s in statements)

    report(db_session, clock, interieur)
    few = count_selects()
    for _ in range(9):
        report(db_session, clock, interieur)
    assert count_selects() == few  # no query per incident (observables, organisation)


# ---------------------------------------------------------------- detail and isolation
def test_the_detail_of_an_own_incident(
    client: FlaskClient,
    reporter_token: str,
    lead_token: str,
    analyst_token: str,
    mixed: dict[str, str],
) -> None:
    reference = mixed["ransomware"]
    # TLP:RED: an analyst not named on it gets the same 404 as for a missing incident
    assert client.get(f"{URL}/{reference}", headers=bearer(analyst_token)).status_code == 404
    for secret in (reporter_token, lead_token):
        response = client.get(f"{URL}/{reference}", headers=bearer(secret))
        assert response.status_code == 200
        body = response.get_json()
        assert body["reference"] == reference and body["tlp"] == "TLP:RED"
        assert body["priority"] == "P1" and body["links"]["self"] == f"{URL}/{reference}"
    lower = client.get(f"{URL}/{reference.lower()}", headers=bearer(reporter_token))
    assert lower.get_json()["reference"] == reference


def test_another_organisations_incident_is_an_ordinary_404(
    client: FlaskClient, reporter_token: str, mixed: dict[str, str]
) -> None:
    theirs = mixed["sante"]
    year, number = theirs.split("-")[1], int(theirs.split("-")[2])
    missing = f"MACERT-{year}-{number + 1000:06d}"
    hidden = client.get(f"{URL}/{theirs}", headers=bearer(reporter_token))
    absent = client.get(f"{URL}/{missing}", headers=bearer(reporter_token))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.get_json() == {
        "error": {"code": "not_found", "message": f"no incident {theirs}", "fields": {}}
    }
    assert absent.get_json()["error"]["message"] == f"no incident {missing}"
    # the same headers with the same values, but for the request id that names each request
    assert _headers(hidden) == _headers(absent)
    assert hidden.headers["X-Request-ID"] != absent.headers["X-Request-ID"]
    assert theirs not in references(client, reporter_token) and theirs not in references(
        client, reporter_token, f"q={theirs}"
    )


def _headers(response: TestResponse) -> set[tuple[str, str]]:
    return {(name, value) for name, value in response.headers if name != "X-Request-ID"}
