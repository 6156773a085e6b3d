"""The feeds' pages and REST routes on both databases: the authorisation matrix (reporter,
analyst, lead), the lead's form (kind-dependent fields, errors under the fields, nothing
written), enable/disable/poll with the result in a flash, the run history with its rejections,
``GET /api/v1/feeds`` (never a secret) and ``POST /api/v1/feeds/<name>/poll`` against a real
TAXII server (medallion on loopback)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.identity.models import User
from feeds.models import Feed, FeedRun, RunStatus, RunTrigger
from feeds.settings import FeedSettings
from feeds.sources.fetch import RequestsHttp
from feeds.sources.services import add_feed
from tests.kit.api import bearer, envelope
from tests.kit.taxii import COLLECTION, PASSWORD, USER, Taxii, taxii_server
from tests.kit.web import csrf_token, logout, sign_in, text

NOW = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
ENV = "VIGIE_TEST_TAXII_PASSWORD"


@pytest.fixture(scope="module")
def taxii(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Taxii]:
    with taxii_server(tmp_path_factory.mktemp("taxii"), count=60, page_size=25) as server:
        yield server


@pytest.fixture
def loopback(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls may reach the loopback TAXII server (CERT_FEEDS_ALLOW_PRIVATE)."""
    monkeypatch.setenv(ENV, PASSWORD)
    app.extensions["feeds_http"] = RequestsHttp(FeedSettings(allow_private=True))


def _taxii_feed(session: Session, lead: User, url: str, name: str = "medallion") -> Feed:
    data = {
        "name": name,
        "kind": "taxii",
        "url": url,
        "collection": COLLECTION,
        "username": USER,
        "password_env": ENV,
        "interval_seconds": 3600,
    }
    return add_feed(session, Actor.for_user(lead), data, now=NOW)


# ---------------------------------------------------------------- API
def test_api_lists_feeds_to_staff_without_secrets(
    client: FlaskClient,
    db_session: Session,
    lead: User,
    reporter_token: str,
    analyst_token: str,
    lead_token: str,
) -> None:
    _taxii_feed(db_session, lead, "https://taxii.example.org/taxii2/")
    envelope(client.get("/api/v1/feeds", headers=bearer(reporter_token)), 403, "forbidden")
    for token in (analyst_token, lead_token):
        answer = client.get("/api/v1/feeds", headers=bearer(token))
        assert answer.status_code == 200, answer.json
        body = answer.get_json()
        assert body["total"] == 1 and body["next"] is None
        [feed] = body["items"]
        assert (feed["name"], feed["kind"], feed["password_env"]) == ("medallion", "taxii", ENV)
        assert feed["next_poll_at"] is not None
        assert PASSWORD not in answer.get_data(as_text=True)
    assert client.get("/api/v1/feeds").status_code == 401


@pytest.mark.slow
@pytest.mark.usefixtures("loopback")
def test_api_poll_is_for_leads_and_answers_the_run(
    client: FlaskClient,
    db_session: Session,
    lead: User,
    taxii: Taxii,
    reporter_token: str,
    analyst_token: str,
    lead_token: str,
) -> None:
    _taxii_feed(db_session, lead, taxii.discovery)
    for token in (reporter_token, analyst_token):
        envelope(client.post("/api/v1/feeds/medallion/poll", headers=bearer(token)), 403)
    assert db_session.scalar(select(func.count()).select_from(FeedRun)) == 0
    envelope(client.post("/api/v1/feeds/nothing/poll", headers=bearer(lead_token)), 404)

    answer = client.post("/api/v1/feeds/medallion/poll", headers=bearer(lead_token))
    assert answer.status_code == 200, answer.json
    run = answer.get_json()
    assert (run["feed"], run["status"], run["trigger"], run["new"]) == (
        "medallion",
        "succeeded",
        "manual",
        60,
    )
    again = client.post("/api/v1/feeds/medallion/poll", headers=bearer(lead_token)).get_json()
    assert (again["new"], again["unchanged"]) == (0, 0)


def test_the_openapi_document_describes_the_feeds(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/feeds"]
    assert "post" in paths["/api/v1/feeds/{name}/poll"]


# ---------------------------------------------------------------- pages
def test_pages_matrix(
    client: FlaskClient, db_session: Session, reporter: User, analyst: User, lead: User
) -> None:
    _taxii_feed(db_session, lead, "https://taxii.example.org/taxii2/")
    sign_in(client, reporter)
    assert client.get("/feeds").status_code == 403
    assert client.get("/feeds/medallion").status_code == 403
    logout(client)
    sign_in(client, analyst)
    page = text(client.get("/feeds"))
    assert "medallion" in page and "/feeds/new" not in page and "Poll now" not in page
    assert client.get("/feeds/new").status_code == 403
    token = csrf_token(text(client.get("/feeds/medallion")))
    answer = client.post("/feeds/medallion/poll", data={"csrf_token": token})
    assert answer.status_code == 403
    assert client.post("/feeds/medallion/disable", data={"csrf_token": token}).status_code == 403
    logout(client)
    sign_in(client, lead)
    assert client.post("/feeds/medallion/disable").status_code == 400, "no CSRF token"
    assert db_session.scalar(select(Feed.enabled)) is True


def test_a_lead_adds_a_csv_feed_through_the_form(
    client: FlaskClient, db_session: Session, lead: User
) -> None:
    sign_in(client, lead)
    token = csrf_token(text(client.get("/feeds/new")))
    bad = client.post(
        "/feeds/new",
        data={
            "csrf_token": token,
            "name": "Bad Name",
            "kind": "csv",
            "url": "ftp://x.example/",
            "tlp": "TLP:GREEN",
            "interval_seconds": "10",
            "collection": "ignored for csv",
        },
    )
    assert bad.status_code == 422
    page = text(bad)
    assert "only http:// and https:// URLs" in page and "greater than or equal to 60" in page
    assert db_session.scalar(select(func.count()).select_from(Feed)) == 0

    good = client.post(
        "/feeds/new",
        data={
            "csrf_token": token,
            "name": "urlhaus",
            "kind": "csv",
            "url": "https://urlhaus.example/downloads/text/",
            "tlp": "TLP:CLEAR",
            "value_type": "url",
            "column": "1",
            "interval_seconds": "3600",
            "types": ["url"],
            "enabled": "on",
            "collection": "dropped: not a taxii feed",
        },
        follow_redirects=True,
    )
    assert good.status_code == 200
    assert "urlhaus" in text(good)
    feed = db_session.scalars(select(Feed)).one()
    assert (feed.value_type, feed.column, feed.collection, feed.types) == ("url", 1, None, ["url"])


@pytest.mark.slow
@pytest.mark.usefixtures("loopback")
def test_a_lead_polls_toggles_edits_and_reads_the_history(
    client: FlaskClient, db_session: Session, lead: User, taxii: Taxii, app: Flask
) -> None:
    _taxii_feed(db_session, lead, taxii.api_root)
    sign_in(client, lead)
    token = csrf_token(text(client.get("/feeds")))
    polled = client.post("/feeds/medallion/poll", data={"csrf_token": token}, follow_redirects=True)
    assert "60 nouveaux, 0 mis à jour" in text(polled)  # the lead reads French

    off = client.post(
        "/feeds/medallion/disable",
        data={"csrf_token": token, "back": "runs"},
        follow_redirects=True,
    )
    assert "est désactivé" in text(off)
    assert db_session.scalar(select(Feed.enabled)) is False

    edit = client.post(
        "/feeds/medallion/edit",
        data={
            "csrf_token": token,
            "url": taxii.api_root,
            "tlp": "TLP:AMBER",
            "collection": COLLECTION,
            "username": USER,
            "password_env": "not a variable name!",
            "confidence": "70",
        },
    )
    assert edit.status_code == 422 and "password_env" not in text(edit).split("name=")[0]
    assert "never the secret itself" in text(edit)

    app.extensions["feeds_http"] = RequestsHttp(FeedSettings(allow_private=False))
    failed = client.post("/feeds/medallion/poll", data={"csrf_token": token}, follow_redirects=True)
    assert "a échoué" in text(failed) and "private or reserved address" in text(failed)

    history = text(client.get("/feeds/medallion"))
    assert history.count("vigie-run") == 2 and "private or reserved address" in history
    runs = list(db_session.scalars(select(FeedRun).order_by(FeedRun.id)))
    assert [(r.status, r.trigger) for r in runs] == [
        (RunStatus.SUCCEEDED, RunTrigger.MANUAL),
        (RunStatus.FAILED, RunTrigger.MANUAL),
    ]


def test_the_pages_read_in_french_and_arabic(
    client: FlaskClient, db_session: Session, lead: User
) -> None:
    _taxii_feed(db_session, lead, "https://taxii.example.org/taxii2/")
    sign_in(client, lead)
    for language, words in (
        (
            "fr",
            ("Flux de renseignement sur les menaces", "Interroger maintenant", "Jamais interrogé"),
        ),
        ("ar", ("تغذيات استخبارات التهديدات", "استطلاع الآن", "لم تُستطلع قط")),
    ):
        page = text(client.get(f"/feeds?lang={language}"))
        assert all(word in page for word in words), language
        form = text(client.get("/feeds/medallion/edit"))
        assert ("Identifiant de la collection" if language == "fr" else "معرّف المجموعة") in form
    assert 'dir="rtl"' in page
