"""``GET /api/v1/incidents``: keyset pages (and the offsets clients already use), its search on the
full-text index, and what an attacker tries through the new filters — another organisation's
incidents as a reporter, a TLP:RED incident as an analyst who is not on it, forged cursors."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.queue import query as read_model
from incidents.settings import IntakeSettings
from incidents.workspace.merge import merge
from tests.incidents.queue.lists import ANALYST_SEES, Lists, build
from tests.kit.api import URL, bearer, envelope
from tests.kit.factories import report
from tests.kit.world import World


@pytest.fixture
def lists(world: World, clock: FrozenClock) -> Lists:
    return build(world, clock)


def _walk(client: FlaskClient, lists: Lists, who: str, url: str, key: str) -> list[list[str]]:
    pages = []
    while url:
        response = client.get(url, headers=bearer(lists.tokens[who]))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        pages.append(lists.names([item["reference"] for item in body["items"]]))
        url = body[key]
        assert len(pages) < 20
    return pages


# ---------------------------------------------------------------- pages
@pytest.mark.parametrize("sort", ["-received", "priority", "-sla", "organisation", "status"])
def test_cursors_walk_every_incident_once_both_ways(
    client: FlaskClient, lists: Lists, sort: str
) -> None:
    whole = lists.api_names(client, "lead", f"sort={sort}")
    assert len(whole) == 6
    pages = _walk(client, lists, "lead", f"{URL}?sort={sort}&limit=2", "next")
    assert [len(page) for page in pages] == [2, 2, 2]
    assert [name for page in pages for name in page] == whole
    last = lists.api(client, "lead", f"sort={sort}&limit=2")
    while last["next"]:
        last = client.get(last["next"], headers=bearer(lists.tokens["lead"])).get_json()
    assert last["total"] == 6 and last["previous"] is not None
    back = _walk(client, lists, "lead", last["previous"], "previous")
    assert back == pages[:-1][::-1]


def test_the_next_link_keeps_the_filter_and_the_limit(client: FlaskClient, lists: Lists) -> None:
    body = lists.api(client, "lead", "status=open&tlp=amber,red&limit=1")
    args = parse_qs(urlsplit(body["next"]).query)
    assert args["status"] == ["open"] and args["tlp"] == ["TLP:AMBER", "TLP:RED"]
    assert args["limit"] == ["1"] and "offset" not in args and len(args["after"]) == 1
    assert body["previous"] is None and body["total"] == 3  # phishing, red_mine, ransomware


def test_offsets_keep_working(client: FlaskClient, lists: Lists) -> None:
    whole = lists.api_names(client, "lead")
    first = lists.api(client, "lead", "offset=0&limit=4")
    assert lists.names([i["reference"] for i in first["items"]]) == whole[:4]
    assert parse_qs(urlsplit(first["next"]).query) == {"offset": ["4"], "limit": ["4"]}
    assert first["previous"] is None
    second = client.get(first["next"], headers=bearer(lists.tokens["lead"])).get_json()
    assert lists.names([i["reference"] for i in second["items"]]) == whole[4:]
    assert second["next"] is None
    assert parse_qs(urlsplit(second["previous"]).query) == {"offset": ["0"], "limit": ["4"]}
    assert second["total"] == 6
    cursor = parse_qs(urlsplit(lists.api(client, "lead", "limit=1")["next"]).query)["after"][0]
    error = envelope(
        client.get(f"{URL}?offset=1&after={cursor}", headers=bearer(lists.tokens["lead"])), 422
    )
    assert set(error["fields"]) == {"offset"}


def test_the_total_stops_counting_at_the_queue_s_cap(
    client: FlaskClient, lists: Lists, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_model, "COUNT_CAP", 4)
    for extra in ("", "&offset=0"):
        body = lists.api(client, "lead", f"limit=2{extra}")
        assert (body["total"], body["total_capped"]) == (4, True)
        assert body["next"] is not None
    body = lists.api(client, "lead", "status=new,triaged,resolved")  # exactly the cap
    assert (body["total"], body["total_capped"], len(body["items"])) == (4, False, 4)


def test_a_page_costs_the_same_queries_whatever_its_filters(
    client: FlaskClient, connection: Connection, lists: Lists
) -> None:
    def selects(query: str) -> int:
        seen: list[str] = []

        def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            seen.append(statement)

        event.listen(connection, "before_cursor_execute", record)
        try:
            lists.api(client, "analyst", query)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return sum(s.lstrip().upper().startswith("SELECT") for s in seen)

    lists.api(client, "analyst")  # the token's first use of the day is stamped: not counted
    plain = selects("limit=1")
    assert selects("limit=100") == plain  # no query per incident
    assert selects("q=portail&status=open&sort=organisation&limit=100") == plain


def test_q_uses_the_queue_s_full_text_index(
    client: FlaskClient, connection: Connection, lists: Lists
) -> None:
    """Not a LIKE scan of titles: the FTS5 table (SQLite) or the stored tsvector (PostgreSQL)."""
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        assert lists.api_names(client, "analyst", "q=portail") == ["ddos"]
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert any("fts_incidents" in s or "fts_document" in s for s in seen)
    assert not any("lower(incidents.title)" in s for s in seen)  # what the old list did


# ---------------------------------------------------------------- what an attacker tries
def test_a_reporter_never_reaches_another_organisation_through_a_filter(
    client: FlaskClient, lists: Lists
) -> None:
    theirs = lists.incidents["ddos"]  # santé's
    for query in (
        "organisation=min-sante",
        "sector=health",
        "q=exfiltration",
        "q=portail",
        f"q={theirs.reference}",
        "tlp=red&organisation=min-sante",
        "sort=organisation&status=open,resolved&organisation=min-sante,min-interieur",
    ):
        body = lists.api(client, "reporter", query)
        names = lists.names([item["reference"] for item in body["items"]])
        assert set(names) <= {"phishing", "scan", "ransomware"}, query
        assert body["total"] == len(names), query
    assert set(lists.api_names(client, "reporter", "organisation=min-sante,min-interieur")) == {
        "phishing", "scan", "ransomware",
    }  # fmt: skip


@pytest.mark.parametrize("assignee", ["none", "me", "amine@cert.gov.ma", "1"])
def test_the_assignee_filter_is_cert_internal(
    client: FlaskClient, lists: Lists, assignee: str
) -> None:
    response = client.get(f"{URL}?assignee={assignee}", headers=bearer(lists.tokens["reporter"]))
    assert set(envelope(response, 403, "forbidden")["fields"]) == {"assignee"}


def test_an_analyst_finds_no_tlp_red_incident_they_are_not_on(
    client: FlaskClient, lists: Lists
) -> None:
    for query in ("q=LockBit", "q=rançongiciel", "tlp=red", "priority=P1", "sla=due_soon"):
        body = lists.api(client, "analyst", query)
        names = lists.names([item["reference"] for item in body["items"]])
        assert "ransomware" not in names and body["total"] == len(names), query
    assert lists.api_names(client, "lead", "q=LockBit") == ["ransomware"]
    assert set(lists.api_names(client, "analyst", "tlp=red")) == {"red_mine"}


def _cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_forged_cursors_are_refused_or_harmless(client: FlaskClient, lists: Lists) -> None:
    red = lists.incidents["ransomware"]
    received = red.received_at.isoformat()
    for forged in (
        _cursor({"s": "priority", "v": "P1", "i": red.id}),  # another sort
        _cursor({"s": "-received", "v": "P1", "i": red.id}),  # not a date
        _cursor({"s": "-received", "v": received, "i": 0}),
        _cursor({"s": "-received", "v": received, "i": True}),
        _cursor({"s": "-received", "v": "9999-12-31T00:00:00+14:00", "i": 1}),
        _cursor({"s": "-received", "v": received}),
        _cursor(["-received", received, red.id]),
        "e30",  # {}
        "%FF%FE",
        "A" * 501,
    ):
        response = client.get(f"{URL}?after={forged}", headers=bearer(lists.tokens["analyst"]))
        assert set(envelope(response, 422)["fields"]) == {"after"}, forged
    # a well-formed cursor pointing just past the TLP:RED incident moves the page, nothing more
    around = _cursor({"s": "-received", "v": received, "i": red.id + 1})
    body = lists.api(client, "analyst", f"after={around}&limit=100")
    names = lists.names([item["reference"] for item in body["items"]])
    assert "ransomware" not in names and set(names) <= ANALYST_SEES
    lead_cursor = lists.api(client, "lead", "limit=1")["next"]  # right after the ransomware
    assert "ransomware" not in lists.names(
        [i["reference"] for i in lists.api(client, "analyst", urlsplit(lead_cursor).query)["items"]]
    )


def test_a_reporter_finds_nothing_through_another_organisation_s_merged_indicator(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lists: Lists
) -> None:
    """Santé's report is merged into the Interior's: its observable now sits on the Interior's
    incident, but its origin is Santé. The Interior's reporter must not find their incident by
    searching for Santé's indicator (it would tell them what Santé reported)."""
    w: World = lists.world
    indicator = {"type": "ipv4", "value": "203.0.113.77"}
    survivor = report(db_session, clock, w.reporter, title="Connexions suspectes")
    duplicate = report(
        db_session, clock, w.other_reporter, title="Connexions vers un serveur inconnu",
        description="Flux sortants observés.", observables=[indicator],
    )  # fmt: skip
    merge(
        db_session, w.actor(w.lead), survivor, duplicate, clock=clock, settings=IntakeSettings(),
        confirm_organisations=["min-interieur", "min-sante"],
    )  # fmt: skip
    db_session.flush()
    query = "q=203.0.113.77"

    def found(who: str) -> list[str]:
        return [item["reference"] for item in lists.api(client, who, query)["items"]]

    assert found("reporter") == []
    assert found("other_reporter") == [duplicate.reference]  # the report it came with
    assert found("lead") == [survivor.reference]  # staff: where it is now
