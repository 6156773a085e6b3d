"""One filter language: every filter of ``/queue`` answers the same incidents, in the same order,
through ``GET /api/v1/incidents``; a bad value is a 422 naming the field on both."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from core.clock import FrozenClock
from incidents.settings import IntakeSettings
from tests.incidents.queue.lists import ANALYST_SEES, ROW, Lists, build
from tests.kit.api import URL, bearer, envelope
from tests.kit.world import World

ZONE = ZoneInfo(IntakeSettings().timezone)  # the zone of received_from / received_to


@pytest.fixture
def lists(client: FlaskClient, world: World, clock: FrozenClock) -> Lists:
    built = build(world, clock)
    world.sign_in(client, world.analyst)  # the queue page; the API takes a token
    return built


def _day(lists: Lists, name: str) -> str:
    return lists.incidents[name].received_at.astimezone(ZONE).date().isoformat()


def _instant(lists: Lists, name: str) -> str:
    return lists.incidents[name].received_at.isoformat().replace("+00:00", "Z")


def queries(lists: Lists) -> list[tuple[str, set[str]]]:
    """(query string, the incidents the analyst gets) for every filter and sort."""
    analyst2 = lists.world.analyst2
    return [
        ("sort=-received", ANALYST_SEES),
        ("status=open", {"phishing", "scan", "ddos", "red_mine"}),
        ("status=triaged,resolved", {"scan", "old"}),
        ("status=new&status=resolved", {"phishing", "old"}),
        ("category=availability", {"ddos"}),
        ("category=FRAUD", {"phishing"}),  # ids in any case
        ("type=phishing", {"phishing"}),
        ("type=scanner,data-leak", {"scan", "red_mine"}),
        ("category=fraud&type=scanner", set()),  # filters combine with AND
        ("priority=P2", {"phishing", "red_mine"}),
        ("priority=p3&priority=P4", {"old", "ddos", "scan"}),
        ("organisation=min-sante", {"old", "ddos", "red_mine"}),
        ("organisation=min-interieur,min-sante&status=new", {"phishing"}),
        ("sector=health", {"old", "ddos", "red_mine"}),
        ("assignee=me", {"red_mine"}),
        ("assignee=none", {"old", "phishing", "scan"}),
        (f"assignee={analyst2.email}", {"ddos"}),
        (f"assignee={analyst2.id}", {"ddos"}),
        ("tlp=red", {"red_mine"}),
        ("tlp=TLP:CLEAR,green", {"scan", "ddos", "old"}),
        ("sla=breached", {"phishing"}),
        ("sla=due_soon", {"ddos"}),
        ("sla=due_soon&due_within=6", set()),
        (
            f"received_from={_day(lists, 'scan')}&received_to={_day(lists, 'ddos')}",
            {"scan", "ddos"},
        ),
        (
            f"received_after={_instant(lists, 'scan')}"
            f"&received_before={_instant(lists, 'red_mine')}",
            {"scan", "ddos"},
        ),
        ("q=exfiltration", {"red_mine"}),
        ("q=LockBit", set()),  # the TLP:RED ransomware report is not the analyst's
        ("q=185.220.101", {"phishing"}),  # part of an observable's value
        ("q=portail+service", {"ddos"}),  # every word, in any order
        ("q=sondés", {"scan"}),  # a word of the description
        (f"q={lists.incidents['scan'].reference.lower()}", {"scan"}),
        ("sort=priority", ANALYST_SEES),
        ("sort=-sla&status=open", {"phishing", "scan", "ddos", "red_mine"}),
        ("sort=organisation", ANALYST_SEES),
        ("sort=-reference", ANALYST_SEES),
        ("sort=status&tlp=green,clear,amber", {"old", "phishing", "scan", "ddos"}),
    ]


def test_the_queue_page_and_the_api_answer_alike(client: FlaskClient, lists: Lists) -> None:
    differences = []
    for query, expected in queries(lists):
        page = client.get(f"/queue?{query}")
        assert page.status_code == 200, (query, page.get_data(as_text=True)[:2000])
        on_page = lists.names(ROW.findall(page.get_data(as_text=True)))
        body = lists.api(client, "analyst", query)
        from_api = lists.names([item["reference"] for item in body["items"]])
        if on_page != from_api or set(from_api) != expected or body["total"] != len(expected):
            differences.append(f"{query}: page {on_page}, API {from_api}, expected {expected}")
    assert not differences, "\n".join(differences)


def test_sorts_order_the_api_list(client: FlaskClient, lists: Lists) -> None:
    assert lists.api_names(client, "analyst") == ["red_mine", "ddos", "scan", "phishing", "old"]
    assert lists.api_names(client, "analyst", "sort=received")[0] == "old"
    # P2 P2 P3 P3 P4, ties in creation order
    assert lists.api_names(client, "analyst", "sort=priority") == [
        "phishing", "red_mine", "old", "ddos", "scan",
    ]  # fmt: skip
    # the next due date: phishing's acknowledgement (overdue), then resolutions
    assert lists.api_names(client, "analyst", "sort=sla&status=open")[:2] == ["phishing", "ddos"]
    assert lists.api_names(client, "lead", "sort=status&status=open") == [
        "phishing", "ransomware", "scan", "ddos", "red_mine",
    ]  # fmt: skip


BAD = [
    ("status=ouvert", "status"),
    ("category=nope", "category"),
    ("type=nope", "type"),
    ("priority=P9", "priority"),
    ("organisation=Min%20Sante", "organisation"),
    ("sector=" + "x" * 65, "sector"),
    ("assignee=someone", "assignee"),
    ("tlp=purple", "tlp"),
    ("sla=late", "sla"),
    ("sla=breached&sla=due_soon", "sla"),
    ("due_within=0", "due_within"),
    ("due_within=%D9%A1", "due_within"),  # an Arabic-Indic digit is not a number here
    ("received_from=01/02/2026", "received_from"),
    ("received_from=2026-02-02&received_to=2026-02-01", "received_to"),
    ("received_after=2026-01-01T00:00:00", "received_after"),  # no offset
    ("received_after=2026-02-01T00:00:00Z&received_before=2026-01-01T00:00:00Z", "received_before"),
    ("sort=title", "sort"),
    ("sort=--received", "sort"),
    ("after=not%20a%20cursor!", "after"),
    ("after=abc&before=abc", "before"),
    ("q=" + "x" * 201, "q"),
    ("has_match=maybe", "has_match"),
]


def test_a_bad_value_is_422_naming_the_field_on_both(client: FlaskClient, lists: Lists) -> None:
    wrong = []
    for query, field in BAD:  # one world for all: building it costs more than the requests
        response = client.get(f"{URL}?{query}", headers=bearer(lists.tokens["analyst"]))
        fields = set(envelope(response, 422)["fields"])
        page = client.get(f"/queue?{query}")
        named = f"<code>{field}</code>" in page.get_data(as_text=True)
        if fields != {field} or page.status_code != 422 or not named:
            wrong.append(f"{query}: API {fields}, page {page.status_code} naming it: {named}")
    assert not wrong, "\n".join(wrong)


def test_a_well_formed_cursor_of_another_sort_is_422_on_both(
    client: FlaskClient, lists: Lists
) -> None:
    cursor = lists.api(client, "analyst", "limit=1")["next"].split("after=")[1]
    error = envelope(
        client.get(f"{URL}?sort=priority&after={cursor}", headers=bearer(lists.tokens["analyst"])),
        422,
    )
    assert set(error["fields"]) == {"after"}
    assert client.get(f"/queue?sort=priority&after={cursor}").status_code == 422


def test_the_api_is_strict_where_the_page_is_lenient(client: FlaskClient, lists: Lists) -> None:
    """Unknown parameters and empty values: a bookmarked page URL keeps working (an untouched
    select sends ``sla=``); an API client learns of its typo."""
    for query, field in (("stauts=new", "stauts"), ("status=", "status"), ("sla=", "sla")):
        error = envelope(client.get(f"{URL}?{query}", headers=bearer(lists.tokens["analyst"])), 422)
        assert set(error["fields"]) == {field}
        assert client.get(f"/queue?{query}&sort=-received").status_code == 200


def test_every_invalid_parameter_is_named_at_once(client: FlaskClient, lists: Lists) -> None:
    query = "status=x&tlp=y&type=z&limit=0&colour=red&sort=title"
    error = envelope(client.get(f"{URL}?{query}", headers=bearer(lists.tokens["analyst"])), 422)
    assert set(error["fields"]) == {"status", "tlp", "type", "limit", "colour", "sort"}


def test_dates_are_the_cert_s_local_days(client: FlaskClient, lists: Lists) -> None:
    day = lists.incidents["ddos"].received_at.astimezone(ZONE).date()
    following = (day + dt.timedelta(days=1)).isoformat()
    assert lists.api_names(client, "analyst", f"received_from={day}&received_to={day}") == ["ddos"]
    assert "ddos" not in lists.api_names(client, "analyst", f"received_from={following}")


def test_the_page_form_shows_or_keeps_every_filter(client: FlaskClient, lists: Lists) -> None:
    """Filtering again from the form must not drop a filter of the URL: the RSIT type has its
    list; instants and the due-soon window (from the API's vocabulary) ride along hidden."""
    after = _instant(lists, "scan").replace("Z", "+00:00")
    html = client.get(
        f"/queue?type=phishing&due_within=48&received_after={after.replace('+', '%2B')}"
    ).get_data(as_text=True)
    assert re.search(r'<input [^>]*name="type" value="phishing" checked>', html)
    assert '<input type="hidden" name="due_within" value="48">' in html
    assert f'<input type="hidden" name="received_after" value="{after}">' in html
