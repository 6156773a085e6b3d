"""/dashboard through the client on both backends: charts and tables, languages, the period
selector's errors, who sees what, and a constant number of queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import Role
from tests.incidents.reporting.scenario import NOW, Scenario, build, report, utc
from tests.kit.factories import PASSWORD, make_user
from tests.kit.web import login, text

CUSTOM = "/dashboard?period=custom&from=2026-01-01&to=2026-02-28"


@pytest.fixture
def scenario(db_session: Session, clock: FrozenClock) -> Scenario:
    return build(db_session, clock)


def test_staff_see_every_chart_with_its_figures(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.lead.email, PASSWORD)
    response = client.get(CUSTOM + "&lang=en")
    page = text(response)
    assert response.status_code == 200
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="vigie-chart') == 8
    assert "<title>Jan 16 — Fraud: 1</title>" in page  # a bar's tooltip
    assert "Organisation min-sante" in page and ">health<" in page
    assert "cdn" not in page.lower() and "<script>" not in page
    assert "/stats.csv?from=2026-01-01&amp;to=2026-02-28" in page
    p1 = r"<th scope=\"row\"><a href=\"/queue\?[^\"]+\">P1</a></th><td>1</td><td>2</td><td>50%</td>"
    assert re.search(p1, page)


def test_french_and_arabic_pages_are_localised_and_mirrored(
    client: FlaskClient, scenario: Scenario
) -> None:
    login(client, scenario.lead.email, PASSWORD)
    french = text(client.get(CUSTOM + "&lang=fr"))
    assert "1 janvier 2026" in french and 'direction="ltr"' in french
    arabic = text(client.get(CUSTOM + "&lang=ar"))
    assert 'dir="rtl"' in arabic and 'direction="rtl"' in arabic
    assert "وزارة الصحة" in arabic  # the organisation's Arabic name


def test_a_reporter_gets_their_organisation_only(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.reporter_sante.email, PASSWORD)
    page = text(client.get(CUSTOM + "&lang=en"))
    assert "your organisation only" in page
    assert "min-interieur" not in page and "government" not in page
    assert "Incidents by organisation" not in page and "/stats.csv" not in page
    assert "Malicious Code" not in page  # only the other ministry had malware


def test_an_analyst_page_leaves_out_red_incidents(client: FlaskClient, scenario: Scenario) -> None:
    login(client, scenario.analyst.email, PASSWORD)
    page = text(client.get(CUSTOM + "&lang=en"))
    counts = re.search(r"Incidents received</dt>\s*<dd class=\"h4 mb-0\">(\d+)<", page)
    assert counts is not None and counts.group(1) == "5"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=7", "l’une des valeurs : 30, 90, 365, custom"),
        ("period=custom&from=2026-02-01&to=2026-01-01", "ne doit pas précéder le premier jour"),
        ("period=custom&to=2026-01-01", "obligatoire (AAAA-MM-JJ)"),
        ("period=custom&from=2026-01-01&to=2026-13-01", "date invalide : &#39;2026-13-01&#39;"),
        ("granularity=hour", "jour, semaine ou mois"),
        ("granularity=hour&lang=ar", "يوم أو أسبوع أو شهر"),
        ("period=custom&from=2020-01-01&to=2026-01-01&lang=ar", "لا يمكن أن تتجاوز الفترة"),
    ],
)
def test_a_bad_period_is_shown_on_the_form(
    client: FlaskClient, scenario: Scenario, query: str, message: str
) -> None:
    login(client, scenario.lead.email, PASSWORD)
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 422 and message in text(response)
    assert "vigie-chart" not in text(response)


def test_the_presets_and_anonymous_visitors(client: FlaskClient, scenario: Scenario) -> None:
    assert client.get("/dashboard").status_code == 302  # to the login page
    login(client, scenario.lead.email, PASSWORD)
    for preset in ("30", "90", "365"):
        assert client.get(f"/dashboard?period={preset}").status_code == 200


def test_the_page_costs_the_same_queries_whatever_the_volume(
    client: FlaskClient,
    connection: Connection,
    db_session: Session,
    clock: FrozenClock,
    scenario: Scenario,
) -> None:
    login(client, scenario.lead.email, PASSWORD)

    def count() -> int:
        statements: list[str] = []

        def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            statements.append(statement)

        event.listen(connection, "before_cursor_execute", record)
        try:
            assert client.get(CUSTOM).status_code == 200
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return len(statements)

    few = count()
    user = make_user(db_session, clock, org=scenario.interieur, role=Role.REPORTER)
    for day in range(10):
        report(db_session, clock, user, "other", utc(2026, 1, 2 + day, 9, 0))
    clock.set(NOW)
    assert count() == few
