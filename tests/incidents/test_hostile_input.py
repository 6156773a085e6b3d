"""Hostile input at the edges, on SQLite and PostgreSQL: numbers out of range or in other
scripts, instants without a UTC form or out of bounds, NUL characters, search syntax and
bidirectional controls. Each answers the documented 4xx naming the field (404 for a path) the
same on both databases, and writes nothing; bidi controls are kept visible, never obeyed.

The rules live in ``cert.inputs`` (README, "Input limits").
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cert.audit import AuditEntry
from cert.auth.models import Organisation, Role
from cert.clock import FrozenClock
from cert.inputs import MAX_OFFSET
from cert.outbox import OutboxMessage
from incidents.models import (
    Attachment,
    Incident,
    IncidentEvent,
    IncidentObservable,
    IncidentTask,
)
from tests.factories import PASSWORD, make_token, make_user
from tests.incidents.workspace_helpers import World, make_world, report
from tests.kit.api import BOUNDARY, PHISHING, bearer, envelope, multipart
from tests.webclient import csrf_token, login
from tests.webclient import text as page_text

API = "/api/v1/incidents"
TABLES = (Incident, IncidentEvent, IncidentObservable, IncidentTask, Attachment, AuditEntry)


def counts(session: Session) -> dict[str, int]:
    """Rows of every table a request could write to."""
    tables: tuple[Any, ...] = (*TABLES, OutboxMessage)
    return {
        t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in tables
    }


@pytest.fixture
def w(db_session: Session, clock: FrozenClock) -> World:
    return make_world(db_session, clock)  # no passwords: hashing is slow


def signed_in(client: FlaskClient, session: Session, clock: FrozenClock, role: str) -> FlaskClient:
    """``client`` signed in as a new user with ``role`` (CERT staff, or a reporter of
    min-interieur)."""
    org = None
    if role == Role.REPORTER:
        org = session.scalars(select(Organisation).filter_by(slug="min-interieur")).one()
    user = make_user(session, clock, role=role, org=org, email=f"{role}-web@cert.ma")
    login(client, user.email, PASSWORD)
    return client


@pytest.fixture
def ref(db_session: Session, clock: FrozenClock, w: World) -> str:
    return report(db_session, clock, w.reporter).reference


@pytest.fixture
def lead(db_session: Session, clock: FrozenClock, w: World) -> dict[str, str]:
    return bearer(make_token(db_session, clock, w.lead)[1])


@pytest.fixture
def admin(client: FlaskClient, db_session: Session, clock: FrozenClock, w: World) -> FlaskClient:
    return signed_in(client, db_session, clock, Role.ADMIN)


@contextmanager
def nothing_written(session: Session) -> Iterator[None]:
    """The requests made inside leave every table as it was."""
    before = counts(session)
    yield
    session.expire_all()
    assert counts(session) == before


def _named(response: Any, status: int, field: str) -> None:
    error = envelope(response, status)
    assert field in error["fields"], error


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
    lead: dict[str, str],
    ref: str,
    path: str,
    query: str,
    field: str,
) -> None:
    with nothing_written(db_session):
        response = client.get(f"{API}{path.format(ref=ref)}?{query}", headers=lead)
    _named(response, 422, field)


@pytest.mark.parametrize("path", ["", "/{ref}/timeline", "/{ref}/tasks"])
def test_the_largest_offset_is_an_empty_page(
    client: FlaskClient, lead: dict[str, str], ref: str, path: str
) -> None:
    response = client.get(f"{API}{path.format(ref=ref)}?offset={MAX_OFFSET}", headers=lead)
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
    client: FlaskClient, db_session: Session, lead: dict[str, str], ref: str, task: str
) -> None:
    with nothing_written(db_session):
        response = client.post(f"{API}/{ref}/tasks/{task}", json={"done": True}, headers=lead)
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
    client: FlaskClient, db_session: Session, clock: FrozenClock, w: World, cursor: str
) -> None:
    signed_in(client, db_session, clock, Role.ANALYST)
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
    client: FlaskClient, lead: dict[str, str], query: str, field: str
) -> None:
    _named(client.get(f"{API}?{query}", headers=lead), 422, field)


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
    lead: dict[str, str],
    detected: str,
) -> None:
    if detected == "+1h":
        detected = (clock.now() + dt.timedelta(hours=1)).isoformat()
    for field in ("detected_at", "reported_at"):
        body = {**PHISHING, "organisation": "min-interieur", field: detected}
        with nothing_written(db_session):
            response = client.post(API, json=body, headers=lead)
        _named(response, 422, field)


def test_a_detection_time_within_the_clock_skew_is_accepted(
    client: FlaskClient, clock: FrozenClock, lead: dict[str, str]
) -> None:
    ahead = (clock.now() + dt.timedelta(minutes=10)).isoformat()
    body = {**PHISHING, "organisation": "min-interieur", "detected_at": ahead}
    response = client.post(API, json=body, headers=lead)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_task_due_dates_out_of_range_are_422(
    client: FlaskClient, db_session: Session, lead: dict[str, str], ref: str
) -> None:
    body = {"title": "Bloquer", "due_at": "9999-12-31T23:59:59-14:00"}
    with nothing_written(db_session):
        response = client.post(f"{API}/{ref}/tasks", json=body, headers=lead)
    _named(response, 422, "due_at")


@pytest.mark.parametrize("query", ["received_to=9999-12-31", "received_from=0001-01-01"])
def test_queue_days_out_of_range_are_422(
    client: FlaskClient, db_session: Session, clock: FrozenClock, w: World, query: str
) -> None:
    signed_in(client, db_session, clock, Role.ANALYST)
    assert client.get(f"/queue?{query}").status_code == 422
    assert client.get(f"/queue.csv?{query}").status_code == 422


# ---------------------------------------------------------------- NUL characters
def test_nul_in_a_query_or_a_path_is_refused(
    client: FlaskClient, db_session: Session, lead: dict[str, str], ref: str
) -> None:
    with nothing_written(db_session):
        _named(client.get(f"{API}?q=x%00y", headers=lead), 422, "q")
        _named(client.get(f"{API}?x%00=1", headers=lead), 422, "x\\u0000")
        envelope(client.get(f"{API}/{ref}%00", headers=lead), 404)
        envelope(client.post(f"{API}/{ref}%00/comments", json={"body": "x"}, headers=lead), 404)
        assert client.get(f"/track/{ref}%00").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Hameçonnage\u0000"}, "title"),
        (
            {"observables": [{"type": "domain", "value": "evil.example\u0000"}]},
            "observables[0].value",
        ),
        ({"contact": {"name": "A\u0000"}}, "contact.name"),
        ({"affected_assets": ["srv\u0000"]}, "affected_assets[0]"),
        ({"x\u0000": 1}, "x\\u0000"),
    ],
)
def test_nul_anywhere_in_a_json_body_is_422_naming_where(
    client: FlaskClient, db_session: Session, lead: dict[str, str], body: dict[str, Any], field: str
) -> None:
    payload = {**PHISHING, "organisation": "min-interieur", **body}
    with nothing_written(db_session):
        response = client.post(API, json=payload, headers=lead)
    _named(response, 422, field)


def test_nul_in_workspace_bodies_and_file_names_is_422(
    client: FlaskClient, db_session: Session, lead: dict[str, str], ref: str
) -> None:
    with nothing_written(db_session):
        comment = client.post(f"{API}/{ref}/comments", json={"body": "a\u0000"}, headers=lead)
        task = client.post(f"{API}/{ref}/tasks", json={"title": "a\u0000"}, headers=lead)
        upload = client.post(
            f"{API}/{ref}/attachments",
            data=multipart(b"journal", "log\x00.txt"),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            headers=lead,
        )
    _named(comment, 422, "body")
    _named(task, 422, "title")
    _named(upload, 422, "file")


def test_a_nul_in_an_attached_text_file_is_kept_out_of_observables(
    client: FlaskClient, db_session: Session, lead: dict[str, str], ref: str
) -> None:
    """Files are bytes and may hold anything: a text file is sniffed on its first 8 KiB, then
    mined whole. The URLs found are percent-encoded (PostgreSQL cannot store a NUL: the upload
    was a 500 there)."""
    text = "journal\n" * 2000 + "beacon http://c2.evil.example/a\x00b\u202ec\n"
    response = client.post(
        f"{API}/{ref}/attachments",
        data=multipart(text.encode(), "log.txt"),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=lead,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    values = db_session.scalars(select(IncidentObservable.value)).all()
    assert "http://c2.evil.example/a%00b%E2%80%AEc" in values


def test_nul_in_the_web_report_form_is_422_and_writes_nothing(
    client: FlaskClient, db_session: Session, clock: FrozenClock, w: World
) -> None:
    signed_in(client, db_session, clock, Role.REPORTER)
    token = csrf_token(page_text(client.get("/incidents/new")))
    before = counts(db_session)
    form = {"csrf_token": token, "title": "Hameçonnage\x00", "description": "x"}
    form |= {"classification": "fraud/phishing", "impact": "high", "urgency": "high"}
    response = client.post("/incidents/new", data=form)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert counts(db_session) == before


NASTY_SEARCHES = [
    '"', '""', '"unterminated', "AND", "OR", "NOT", "x AND", "NOT x", "*", "a*b", "^x",
    "NEAR(a b)", "NEAR", "a:b", "title:x", "-x", "+x", "(", ")", "()", "'", "\\", "%", "_",
    "x\"y'z", "\x01", "é*", "\u202e", "&", "|", "!", ":*", "a & b", "{x}", "[", "]",
    "MACERT-2026-", "MACERT-2026-000001*", "'':*", "a''b", "a\tb", "\u0301", "\uffff",
]  # fmt: skip


def test_search_text_is_never_syntax_nor_an_outage(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lead: dict[str, str], ref: str
) -> None:
    """Terms are quoted for each engine: any text is a search (200), a NUL a 422; never the 503
    SQLite's FTS5 syntax error used to be reported as."""
    signed_in(client, db_session, clock, Role.ANALYST)
    for q, expected in [*((q, 200) for q in NASTY_SEARCHES), ("\x00", 422), ("x\x00y", 422)]:
        for url in (API, "/queue", "/queue.csv"):
            headers = lead if url == API else {}
            response = client.get(url, query_string={"q": q}, headers=headers)
            assert response.status_code == expected, (url, q, response.status_code)
            response.close()


def test_a_search_the_engine_refuses_is_422_not_an_outage(
    app: Flask, client: FlaskClient, database: Any, lead: dict[str, str]
) -> None:
    """The safety net behind the quoting: an FTS5 syntax error is the caller's search, not a
    database failure (no 503, no Retry-After)."""
    if database.backend != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    from cert.web import get_session

    def refused() -> str:
        get_session().execute(
            text("SELECT rowid FROM fts_incidents WHERE fts_incidents MATCH '\"'")
        )
        return "unreachable"

    app.add_url_rule("/api/test-fts", "test_fts", refused)
    response = client.get("/api/test-fts", headers=lead)
    _named(response, 422, "q")
    assert "Retry-After" not in response.headers


# ---------------------------------------------------------------- bidirectional controls
def test_bidi_controls_in_titles_are_kept_visible(
    client: FlaskClient, db_session: Session, lead: dict[str, str], ref: str
) -> None:
    body = {
        **PHISHING,
        "organisation": "min-interieur",
        "title": "Facture \u202efdp.exe \u2066x\u2069 \u200f\u061c",
        "description": "Lien hxxps://evil[.]example/fact\u202eure.pdf reçu.",
    }
    response = client.post(API, json=body, headers=lead)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["title"] == ("Facture ⟨U+202E⟩fdp.exe ⟨U+2066⟩x⟨U+2069⟩ ⟨U+200F⟩⟨U+061C⟩")
    incident = db_session.scalars(select(Incident).filter_by(reference=answer["reference"])).one()
    values = [o.value for o in incident.observables]
    assert "https://evil.example/fact%E2%80%AEure.pdf" in values
    assert not any(
        char in "\u202e\u2066\u2069\u200f\u061c" for char in incident.title + "".join(values)
    )
    task = client.post(f"{API}/{ref}/tasks", json={"title": "Voir \u202eabc"}, headers=lead)
    assert task.get_json()["title"] == "Voir ⟨U+202E⟩abc"


def test_a_title_too_long_once_its_controls_are_shown_is_422(
    client: FlaskClient, db_session: Session, lead: dict[str, str]
) -> None:
    body = {**PHISHING, "organisation": "min-interieur", "title": "a" * 295 + "\u202e"}
    with nothing_written(db_session):
        response = client.post(API, json=body, headers=lead)
    _named(response, 422, "title")


def test_analysts_see_the_marker_on_the_file_and_in_the_queue(
    client: FlaskClient, db_session: Session, clock: FrozenClock, w: World
) -> None:
    incident = report(db_session, clock, w.reporter, title="Facture \u202efdp.exe")
    signed_in(client, db_session, clock, Role.ANALYST)
    for url in (f"/incidents/{incident.reference}", "/queue"):
        html = page_text(client.get(url))
        assert "Facture ⟨U+202E⟩fdp.exe" in html and "\u202e" not in html
