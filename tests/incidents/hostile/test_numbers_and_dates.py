"""Hostile numbers and instants at the edges, on SQLite and PostgreSQL: numbers out of range or in
other scripts, instants without a UTC form or out of bounds. Each answers the documented 4xx naming
the field (404 for a path) the same on both databases, and writes nothing.

The rules live in ``core.inputs`` (README, "Input limits").
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import Organisation
from core.inputs import MAX_OFFSET
from tests.incidents.hostile.conftest import API, named, nothing_written
from tests.kit.api import PHISHING, envelope
from tests.kit.world import World


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=9223372036854775808", "offset"),  # PostgreSQL: "bigint out of range" (500)
        ("offset=99999999999999999999999", "offset"),
        (f"offset={MAX_OFFSET + 1}", "offset"),
        ("limit=%C2%B2", "limit"),  # "²".isdigit() is True, int("²") raises (500)
        ("limit=%D9%A1%D9%A0", "limit"),  # "١٠" was taken as 10
        ("offset=%EF%BC%91", "offset"),  # fullwidth "１"
        ("limit=1&limit=2", "limit"),
        ("limit=101", "limit"),  # a huge page
    ],
)
@pytest.mark.parametrize("path", ["", "/{ref}/timeline", "/{ref}/tasks"])
def test_page_numbers_are_ascii_and_bounded(
    client: FlaskClient,
    db_session: Session,
    lead_headers: dict[str, str],
    ref: str,
    path: str,
    query: str,
    field: str,
) -> None:
    with nothing_written(db_session):
        response = client.get(f"{API}{path.format(ref=ref)}?{query}", headers=lead_headers)
    named(response, 422, field)


@pytest.mark.parametrize("path", ["", "/{ref}/timeline", "/{ref}/tasks"])
def test_the_largest_offset_is_an_empty_page(
    client: FlaskClient, lead_headers: dict[str, str], ref: str, path: str
) -> None:
    response = client.get(f"{API}{path.format(ref=ref)}?offset={MAX_OFFSET}", headers=lead_headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["items"] == [] and response.get_json()["next"] is None


@pytest.mark.parametrize(
    "url",
    [
        "/incidents/mine?page=99999999999999999999999",
        "/incidents/mine?page=%C2%B2",
        "/admin/users?page=99999999999999999999999",
        "/admin/organisations?page=99999999999999999999999",
        "/admin/audit?before=99999999999999999999999",
        "/admin/audit?before=9223372036854775808",
        "/admin/audit?before=%D9%A1%D9%A0",
        "/incidents/{ref}?before=99999999999999999999",
        "/queue?assignee=%C2%B2",
        "/queue?assignee=99999999999999999999",
        "/queue?due_within=%D9%A1%D9%A0&sla=due_soon",
        "/dashboard?period=custom&from=9999-12-25&to=9999-12-31",  # no next midnight (500)
        "/stats.csv?from=9999-12-25&to=9999-12-31",
    ],
)
def test_html_pages_refuse_numbers_and_days_out_of_range_with_422(
    admin: FlaskClient, db_session: Session, ref: str, url: str
) -> None:
    with nothing_written(db_session):
        response = admin.get(url.format(ref=ref))
    assert response.status_code == 422, url
    assert response.mimetype == "text/html"


def test_the_last_html_page_number_is_an_empty_page(admin: FlaskClient) -> None:
    assert admin.get("/admin/users?page=1000000").status_code == 200
    assert admin.get("/incidents/mine?page=1000000").status_code == 200


@pytest.mark.parametrize("task", ["%D9%A1", "99999999999999999999", "2147483648"])
def test_row_ids_in_paths_are_ascii_and_bounded(
    client: FlaskClient, db_session: Session, lead_headers: dict[str, str], ref: str, task: str
) -> None:
    with nothing_written(db_session):
        response = client.post(
            f"{API}/{ref}/tasks/{task}", json={"done": True}, headers=lead_headers
        )
    envelope(response, 404)


def _cursor(sort: str, value: Any, id_: int) -> str:
    raw = json.dumps({"s": sort, "v": value, "i": id_}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("-received", "2026-01-01T00:00:00+00:00", 2**40),  # PostgreSQL integer (500)
        _cursor("-received", "0001-01-01T00:00:00+14:00", 1),  # no UTC form
        _cursor("reference", "MACERT\u0000", 1),  # NUL hidden in base64 (500 on PostgreSQL)
        _cursor("status", 10**30, 1),
    ],
    ids=["huge-id", "no-utc-form", "nul", "huge-rank"],
)
def test_crafted_queue_cursors_are_422(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World, cursor: str
) -> None:
    world.sign_in(client, world.analyst)
    sort = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["s"]
    for direction in ("after", "before"):
        response = client.get("/queue", query_string={"sort": sort, direction: cursor})
        assert response.status_code == 422, cursor


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("received_after=0001-01-01T00:00:00%2B14:00", "received_after"),  # no UTC form
        ("received_before=9999-12-31T23:59:59-14:00", "received_before"),
        ("received_after=1969-12-31T23:59:59Z", "received_after"),
        ("received_before=2200-01-01T00:00:00Z", "received_before"),
    ],
)
def test_query_instants_without_a_utc_form_or_out_of_range_are_422(
    client: FlaskClient, lead_headers: dict[str, str], query: str, field: str
) -> None:
    named(client.get(f"{API}?{query}", headers=lead_headers), 422, field)


@pytest.mark.parametrize(
    "detected",
    [
        "9999-12-31T23:59:59-14:00",  # OverflowError converting to UTC (500)
        "0001-01-01T00:00:00+14:00",
        "2999-01-01T00:00:00Z",  # was accepted
        "0001-01-01T00:00:00Z",  # was accepted
        "1989-12-31T23:59:59Z",  # decades old
        "+1h",  # an hour ahead of the server's clock
    ],
)
def test_detection_times_in_the_future_or_decades_old_are_422(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    lead_headers: dict[str, str],
    detected: str,
    interieur: Organisation,
) -> None:
    if detected == "+1h":
        detected = (clock.now() + dt.timedelta(hours=1)).isoformat()
    for field in ("detected_at", "reported_at"):
        body = {**PHISHING, "organisation": interieur.slug, field: detected}
        with nothing_written(db_session):
            response = client.post(API, json=body, headers=lead_headers)
        named(response, 422, field)


def test_a_detection_time_within_the_clock_skew_is_accepted(
    client: FlaskClient, clock: FrozenClock, lead_headers: dict[str, str], interieur: Organisation
) -> None:
    ahead = (clock.now() + dt.timedelta(minutes=10)).isoformat()
    body = {**PHISHING, "organisation": interieur.slug, "detected_at": ahead}
    response = client.post(API, json=body, headers=lead_headers)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_task_due_dates_out_of_range_are_422(
    client: FlaskClient, db_session: Session, lead_headers: dict[str, str], ref: str
) -> None:
    body = {"title": "Bloquer", "due_at": "9999-12-31T23:59:59-14:00"}
    with nothing_written(db_session):
        response = client.post(f"{API}/{ref}/tasks", json=body, headers=lead_headers)
    named(response, 422, "due_at")


@pytest.mark.parametrize("query", ["received_to=9999-12-31", "received_from=0001-01-01"])
def test_queue_days_out_of_range_are_422(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World, query: str
) -> None:
    world.sign_in(client, world.analyst)
    assert client.get(f"/queue?{query}").status_code == 422
    assert client.get(f"/queue.csv?{query}").status_code == 422
