"""Hostile text at the edges, on SQLite and PostgreSQL: NUL characters, search syntax and
bidirectional controls. Each answers the documented 4xx naming the field (404 for a path) the same
on both databases, and writes nothing; bidi controls are kept visible, never obeyed.

The rules live in ``core.inputs`` (README, "Input limits").
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import Organisation
from incidents.models import (
    Incident,
    IncidentObservable,
)
from tests.incidents.hostile.conftest import API, counts, named, nothing_written
from tests.kit.api import BOUNDARY, PHISHING, envelope, multipart
from tests.kit.factories import report
from tests.kit.web import csrf_token
from tests.kit.web import text as page_text
from tests.kit.world import World


# ---------------------------------------------------------------- NUL characters
def test_nul_in_a_query_or_a_path_is_refused(
    client: FlaskClient, db_session: Session, lead_headers: dict[str, str], ref: str
) -> None:
    with nothing_written(db_session):
        named(client.get(f"{API}?q=x%00y", headers=lead_headers), 422, "q")
        named(client.get(f"{API}?x%00=1", headers=lead_headers), 422, "x\\u0000")
        envelope(client.get(f"{API}/{ref}%00", headers=lead_headers), 404)
        envelope(
            client.post(f"{API}/{ref}%00/comments", json={"body": "x"}, headers=lead_headers), 404
        )
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
    client: FlaskClient,
    db_session: Session,
    lead_headers: dict[str, str],
    body: dict[str, Any],
    field: str,
    interieur: Organisation,
) -> None:
    payload = {**PHISHING, "organisation": interieur.slug, **body}
    with nothing_written(db_session):
        response = client.post(API, json=payload, headers=lead_headers)
    named(response, 422, field)


def test_nul_in_workspace_bodies_and_file_names_is_422(
    client: FlaskClient, db_session: Session, lead_headers: dict[str, str], ref: str
) -> None:
    with nothing_written(db_session):
        comment = client.post(
            f"{API}/{ref}/comments", json={"body": "a\u0000"}, headers=lead_headers
        )
        task = client.post(f"{API}/{ref}/tasks", json={"title": "a\u0000"}, headers=lead_headers)
        upload = client.post(
            f"{API}/{ref}/attachments",
            data=multipart(b"journal", "log\x00.txt"),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            headers=lead_headers,
        )
    named(comment, 422, "body")
    named(task, 422, "title")
    named(upload, 422, "file")


def test_a_nul_in_an_attached_text_file_is_kept_out_of_observables(
    client: FlaskClient, db_session: Session, lead_headers: dict[str, str], ref: str
) -> None:
    """Files are bytes and may hold anything: a text file is sniffed on its first 8 KiB, then
    mined whole. The URLs found are percent-encoded (PostgreSQL cannot store a NUL: the upload
    was a 500 there)."""
    text = "journal\n" * 2000 + "beacon http://c2.evil.example/a\x00b\u202ec\n"
    response = client.post(
        f"{API}/{ref}/attachments",
        data=multipart(text.encode(), "log.txt"),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=lead_headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    values = db_session.scalars(select(IncidentObservable.value)).all()
    assert "http://c2.evil.example/a%00b%E2%80%AEc" in values


def test_nul_in_the_web_report_form_is_422_and_writes_nothing(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.reporter)
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
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    lead_headers: dict[str, str],
    ref: str,
    world: World,
) -> None:
    """Terms are quoted for each engine: any text is a search (200), a NUL a 422; never the 503
    SQLite's FTS5 syntax error used to be reported as."""
    world.sign_in(client, world.analyst)
    for q, expected in [*((q, 200) for q in NASTY_SEARCHES), ("\x00", 422), ("x\x00y", 422)]:
        for url in (API, "/queue", "/queue.csv"):
            headers = lead_headers if url == API else {}
            response = client.get(url, query_string={"q": q}, headers=headers)
            assert response.status_code == expected, (url, q, response.status_code)
            response.close()


def test_a_search_the_engine_refuses_is_422_not_an_outage(
    app: Flask, client: FlaskClient, database: Any, lead_headers: dict[str, str]
) -> None:
    """The safety net behind the quoting: an FTS5 syntax error is the caller's search, not a
    database failure (no 503, no Retry-After)."""
    if database.backend != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    from core.web import get_session

    def refused() -> str:
        get_session().execute(
            text("SELECT rowid FROM fts_incidents WHERE fts_incidents MATCH '\"'")
        )
        return "unreachable"

    app.add_url_rule("/api/test-fts", "test_fts", refused)
    response = client.get("/api/test-fts", headers=lead_headers)
    named(response, 422, "q")
    assert "Retry-After" not in response.headers


# ---------------------------------------------------------------- bidirectional controls
def test_bidi_controls_in_titles_are_kept_visible(
    client: FlaskClient,
    db_session: Session,
    lead_headers: dict[str, str],
    ref: str,
    interieur: Organisation,
) -> None:
    body = {
        **PHISHING,
        "organisation": interieur.slug,
        "title": "Facture \u202efdp.exe \u2066x\u2069 \u200f\u061c",
        "description": "Lien hxxps://evil[.]example/fact\u202eure.pdf reçu.",
    }
    response = client.post(API, json=body, headers=lead_headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["title"] == ("Facture ⟨U+202E⟩fdp.exe ⟨U+2066⟩x⟨U+2069⟩ ⟨U+200F⟩⟨U+061C⟩")
    incident = db_session.scalars(select(Incident).filter_by(reference=answer["reference"])).one()
    values = [o.value for o in incident.observables]
    assert "https://evil.example/fact%E2%80%AEure.pdf" in values
    assert not any(
        char in "\u202e\u2066\u2069\u200f\u061c" for char in incident.title + "".join(values)
    )
    task = client.post(f"{API}/{ref}/tasks", json={"title": "Voir \u202eabc"}, headers=lead_headers)
    assert task.get_json()["title"] == "Voir ⟨U+202E⟩abc"


def test_a_title_too_long_once_its_controls_are_shown_is_422(
    client: FlaskClient, db_session: Session, lead_headers: dict[str, str], interieur: Organisation
) -> None:
    body = {**PHISHING, "organisation": interieur.slug, "title": "a" * 295 + "\u202e"}
    with nothing_written(db_session):
        response = client.post(API, json=body, headers=lead_headers)
    named(response, 422, "title")


def test_analysts_see_the_marker_on_the_file_and_in_the_queue(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, title="Facture \u202efdp.exe")
    world.sign_in(client, world.analyst)
    for url in (f"/incidents/{incident.reference}", "/queue"):
        html = page_text(client.get(url))
        assert "Facture ⟨U+202E⟩fdp.exe" in html and "\u202e" not in html
