"""The public archive (``/advisories``), a bulletin's public page and downloads, and the RSS 2.0
and Atom 1.0 feeds, on both databases: only published ``TLP:CLEAR`` bulletins, as published (a
revision in progress never shows), the same 404 for anything else, in the visitor's language;
feeds well-formed (parsed) with their required elements."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bulletins.outputs import formats
from core.clock import FrozenClock
from tests.bulletins.public_kit import Cast, cast, probe_format, title
from tests.bulletins.test_authoring import published
from tests.kit.web import sign_in
from tests.kit.world import World

ATOM = "{http://www.w3.org/2005/Atom}"
HIDDEN = ["green", "amber", "strict", "red_sent", "red", "retlp"]


@pytest.fixture
def bulletins(db_session: Session, clock: FrozenClock, world: World) -> Cast:
    return cast(db_session, clock, world)


@pytest.fixture
def probe() -> Iterator[formats.Format]:
    with probe_format() as fmt:
        yield fmt


def test_the_archive_lists_only_public_published_bulletins(
    app: Flask, world: World, bulletins: Cast
) -> None:
    for who in (None, world.reporter, world.lead):  # signed in or not: the same archive
        client = app.test_client()
        if who is not None:
            sign_in(client, who)
        page = client.get("/advisories?lang=fr")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert bulletins.ref("clear") in html and "Bulletin public" in html
        assert bulletins.ref("revising") in html and "Titre publié" in html
        assert "SECRET" not in html and "Brouillon" not in html
        for name in HIDDEN:
            assert bulletins.ref(name) not in html, name
        assert '<link rel="alternate" type="application/rss+xml"' in html
        assert 'href="/advisories/feed.atom"' in html
    assert client.get("/advisories").headers["Cache-Control"] == "private, no-cache"


def test_the_archive_filters_and_speaks_the_visitors_language(
    client: FlaskClient, bulletins: Cast
) -> None:
    anonymous = client.get("/advisories?lang=ar")
    assert anonymous.headers["Cache-Control"] == "public, max-age=300"
    html = anonymous.get_data(as_text=True)
    assert 'dir="rtl"' in html and "نشرة عامة" in html
    assert 'lang="fr" dir="ltr">Titre publié' in html  # no Arabic version: French, left to right
    html = client.get("/advisories?q=PUBLIC&lang=fr").get_data(as_text=True)
    assert bulletins.ref("clear") in html and bulletins.ref("revising") not in html
    # the title of a revision in progress is not searched: no word of it leaks
    assert bulletins.ref("revising") not in client.get("/advisories?q=secret").get_data(
        as_text=True
    )
    html = client.get(f"/advisories?q={bulletins.ref('revising')}").get_data(as_text=True)
    assert "Titre publié" in html
    html = client.get("/advisories?kind=digest").get_data(as_text=True)
    assert bulletins.ref("clear") not in html
    assert bulletins.ref("clear") in client.get("/advisories?year=2026").get_data(as_text=True)
    assert client.get("/advisories?year=abc").status_code == 422
    assert client.get("/advisories?kind=memo").status_code == 422
    assert client.get("/advisories?page=0").status_code == 422


def test_a_public_bulletin_page_and_the_same_404_for_everything_else(
    client: FlaskClient, world: World, bulletins: Cast, probe: formats.Format
) -> None:
    page = client.get(f"/advisories/{bulletins.ref('clear')}?lang=fr")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bulletin public" in html and "CVE-2026-21762" in html and "FortiOS" in html
    assert f'href="/advisories/{bulletins.ref("clear")}.probe.json?lang=fr"' in html
    revising = client.get(f"/advisories/{bulletins.ref('revising')}").get_data(as_text=True)
    assert "Titre publié" in revising and "SECRET" not in revising

    def not_found(reference: str, suffix: str = "") -> str:
        """The 404 page, the reference (in its own address) blanked."""
        answer = client.get(f"/advisories/{reference}{suffix}")
        assert answer.status_code == 404, reference
        page = answer.get_data(as_text=True).replace(reference, "X")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", page)

    sign_in(client, world.reporter)  # even a reader of them: the archive is for TLP:CLEAR only
    client.get("/advisories")  # (shows the welcome message)
    unknown = not_found("MACERT-AVI-2099-0001")
    for name in HIDDEN:  # the same answer whether it exists or not
        assert not_found(bulletins.ref(name)) == unknown, name
        assert not_found(bulletins.ref(name), ".probe.json") == not_found(
            "MACERT-AVI-2099-0001", ".probe.json"
        )


def test_public_downloads_come_from_the_registry(
    client: FlaskClient, bulletins: Cast, probe: formats.Format
) -> None:
    reference = bulletins.ref("clear")
    answer = client.get(f"/advisories/{reference}.probe.json?lang=ar")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.get_json() == {"reference": reference, "tlp": "TLP:CLEAR", "language": "ar",
                                 "title": "نشرة عامة"}  # fmt: skip
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    for suffix in ("nope", "probe.xml", "json"):
        assert client.get(f"/advisories/{reference}.{suffix}").status_code == 404


def test_the_page_reuses_the_html_rendition_when_one_is_registered(
    client: FlaskClient, bulletins: Cast
) -> None:
    own = formats.FORMATS.get("html")
    fake = formats.Format(
        "html", ".html", "text/html",
        lambda ctx, view: formats.Rendered(
            f"<html><body><p id='rendered'>{view.reference} {ctx.language}</p></body></html>"
            .encode(), "text/html"),
    )  # fmt: skip
    formats.FORMATS["html"] = fake
    try:
        html = client.get(f"/advisories/{bulletins.ref('clear')}?lang=en").get_data(as_text=True)
    finally:
        if own is None:
            formats.FORMATS.pop("html")
        else:
            formats.FORMATS["html"] = own
    assert f"<p id='rendered'>{bulletins.ref('clear')} en</p>" in html
    assert "<html><body>" not in html  # only the body, inside the page
    assert "Résumé de Bulletin public" not in html  # instead of the archive's own sections


def test_the_rss_feed_is_well_formed_rss_2_of_public_bulletins(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    world: World,
    bulletins: Cast,
) -> None:
    clock.advance(minutes=5)
    odd = published(db_session, clock, world, texts=title("Fuite <script> & « guillemets »"))[0]
    answer = client.get("/advisories/feed.rss?lang=fr")
    assert answer.status_code == 200 and answer.mimetype == "application/rss+xml"
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    root = ET.fromstring(answer.data)  # noqa: S314  (our own feed: well-formed, or this raises)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), required
    base = app.extensions["bulletins"].base_url or "http://localhost"
    assert channel.findtext("link") == f"{base}/advisories"
    items = channel.findall("item")
    guids = [item.findtext("guid") for item in items]
    assert guids == [odd.reference, bulletins.ref("revising"), bulletins.ref("clear")]
    first = items[0]
    assert first.findtext("title") == f"{odd.reference} — Fuite <script> & « guillemets »"
    assert first.findtext("link") == f"{base}/advisories/{odd.reference}"
    assert parsedate_to_datetime(first.findtext("pubDate") or "") == clock.now()
    assert [c.text for c in first.findall("category")] == ["advisory", "critical"]
    assert b"&lt;script&gt;" in answer.data
    revising = next(i for i in items if i.findtext("guid") == bulletins.ref("revising"))
    assert revising.findtext("title", "").endswith("Titre publié")


def test_the_atom_feed_is_well_formed_atom_1(client: FlaskClient, bulletins: Cast) -> None:
    answer = client.get("/advisories/feed.atom?lang=ar")
    assert answer.status_code == 200 and answer.mimetype == "application/atom+xml"
    root = ET.fromstring(answer.data)  # noqa: S314  (our own feed: well-formed, or this raises)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert (root.findtext(f"{ATOM}{required}") or "").strip(), required
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "published"):
            assert (entry.findtext(f"{ATOM}{required}") or "").strip(), required
        dt.datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
    titles = [entry.findtext(f"{ATOM}title") or "" for entry in entries]
    assert any("نشرة عامة" in t for t in titles)  # the Arabic version where there is one
    body = answer.get_data(as_text=True)
    for name in HIDDEN:
        assert bulletins.ref(name) not in body


def test_the_feeds_carry_the_latest_fifty(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    refs = []
    for n in range(52):
        clock.advance(minutes=1)
        refs.append(published(db_session, clock, world, texts=title(f"N{n}"))[0].reference)
    feed = client.get("/advisories/feed.rss").data
    items = ET.fromstring(feed).findall("channel/item")  # noqa: S314
    assert [i.findtext("guid") for i in items] == refs[::-1][:50]
