"""``GET /api/v1/bulletins``, ``/api/v1/bulletins/<reference>`` and its renditions on both
databases: the access matrix (staff, a reporter of the organisation concerned, one of another
organisation × every TLP, a draft and revisions in progress) for the list, the detail and a
rendition; the published view only; filters; stable keyset pages; 422 naming bad parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from bulletins.outputs import formats
from core.clock import FrozenClock
from tests.bulletins.public_kit import Cast, cast, probe_format, title
from tests.bulletins.test_authoring import published
from tests.kit.api import envelope
from tests.kit.world import World

URL = "/api/v1/bulletins"
PUBLISHED = ["clear", "green", "amber", "strict", "red_sent", "red", "revising", "retlp"]
MATRIX = {
    "analyst": set(PUBLISHED),
    "lead": set(PUBLISHED),
    "reporter": {"clear", "green", "amber", "strict", "red_sent", "revising"},
    # retlp: published AMBER about sante, whose revision in progress makes it CLEAR: its
    # published readers (sante) keep it, nobody new gets it before that revision is published
    "other_reporter": {"clear", "green", "revising", "retlp"},
}


@pytest.fixture
def probe() -> Iterator[formats.Format]:
    with probe_format() as fmt:
        yield fmt


@pytest.fixture
def bulletins(db_session: Session, clock: FrozenClock, world: World) -> Cast:
    return cast(db_session, clock, world)


def _headers(world: World, who: str) -> dict[str, str]:
    return world.headers(getattr(world, who))


def _all(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = f"{URL}?limit=3{query}"
    while url:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        items += body["items"]
        url = body["next"]
    return items


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_each_reader_lists_reads_and_downloads_only_what_they_may(
    client: FlaskClient, world: World, bulletins: Cast, probe: formats.Format, who: str
) -> None:
    headers = _headers(world, who)
    listed = {item["reference"]: item for item in _all(client, headers)}
    expected = {bulletins.ref(name) for name in MATRIX[who]}
    assert set(listed) == expected
    for name in PUBLISHED:
        reference = bulletins.ref(name)
        detail = client.get(f"{URL}/{reference}", headers=headers)
        download = client.get(f"{URL}/{reference}.probe.json?lang=ar", headers=headers)
        if name in MATRIX[who]:
            assert detail.status_code == 200 and download.status_code == 200, name
            assert detail.get_json()["reference"] == reference
            assert download.get_json()["reference"] == reference
            assert download.get_json()["language"] == "ar"
            assert download.headers["Content-Disposition"] == (
                f'attachment; filename="{reference}.probe.json"'
            )
        else:  # the same 404 as for what does not exist: existence is never revealed
            envelope(detail, 404, "not_found")
            envelope(download, 404, "not_found")
    # a revision in progress shows as it was published, everywhere
    revising = bulletins.ref("revising")
    assert listed[revising]["titles"]["fr"] == "Titre publié"
    assert client.get(f"{URL}/{revising}", headers=headers).get_json()["titles"]["fr"] == (
        "Titre publié"
    )
    body = client.get(f"{URL}/{revising}.probe.json", headers=headers).get_json()
    assert body["title"] == "Titre publié"
    assert "SECRET" not in client.get(f"{URL}?q=secret", headers=headers).get_data(as_text=True)


def test_a_draft_has_no_reference_and_only_staff_list_it_by_status(
    client: FlaskClient, world: World, bulletins: Cast
) -> None:
    assert bulletins.refs["draft"] is None
    drafts = _all(client, _headers(world, "lead"), "&status=draft")
    assert {item["id"] for item in drafts} == {
        bulletins.bulletins[name].id for name in ("draft", "revising", "retlp")
    }
    fresh = next(item for item in drafts if item["id"] == bulletins.bulletins["draft"].id)
    assert fresh["reference"] is None and fresh["renditions"] == {} and fresh["url"] is None
    error = envelope(client.get(f"{URL}?status=draft", headers=_headers(world, "reporter")), 422)
    assert set(error["fields"]) == {"status"}
    mine = _all(client, _headers(world, "reporter"), "&status=published")
    assert bulletins.ref("clear") in {item["reference"] for item in mine}


def test_no_token_no_bulletin(client: FlaskClient, bulletins: Cast) -> None:
    for url in (URL, f"{URL}/{bulletins.ref('clear')}", f"{URL}/{bulletins.ref('clear')}.txt"):
        envelope(client.get(url), 401)


def test_the_detail_is_every_field_of_the_published_view(
    client: FlaskClient, world: World, bulletins: Cast, probe: formats.Format
) -> None:
    reference = bulletins.ref("clear")
    body = client.get(f"{URL}/{reference}", headers=_headers(world, "other_reporter")).get_json()
    assert body["kind"] == "advisory" and body["tlp"] == "TLP:CLEAR"
    assert (body["risk"], body["impact"]) == ("critical", "important")
    assert body["titles"] == {"fr": "Bulletin public", "ar": "نشرة عامة"}
    assert body["texts"]["fr"]["summary"] == "Résumé de Bulletin public"
    assert body["cves"] == ["CVE-2026-21762"]
    assert body["affected"] == [
        {"vendor": "Fortinet", "product": "FortiOS", "versions": "7.0 < 7.0.14"}
    ]
    assert body["links"] == ["https://www.fortiguard.com/psirt/FG-IR-26-001"]
    assert [r["number"] for r in body["revisions"]] == [1] and body["revision"] == 1
    assert body["revisions"][0]["summary"] == "Version initiale"
    assert body["url"] == f"{URL}/{reference}"
    assert body["renditions"]["probe"] == f"{URL}/{reference}.probe.json"
    assert (
        client.get(body["renditions"]["probe"], headers=_headers(world, "lead")).status_code == 200
    )
    assert (
        "no-cache"
        in client.get(f"{URL}/{reference}", headers=_headers(world, "lead")).headers[
            "Cache-Control"
        ]
    )


def test_an_unregistered_rendition_is_a_404(
    client: FlaskClient, world: World, bulletins: Cast
) -> None:
    headers = _headers(world, "lead")
    for suffix in ("nope", "probe.json", "csaf.xml", "json"):
        if formats.by_suffix(f".{suffix}") is None:
            envelope(client.get(f"{URL}/{bulletins.ref('clear')}.{suffix}", headers=headers), 404)
    envelope(client.get(f"{URL}/MACERT-AVI-2099-9999", headers=headers), 404)


def test_filters_combine(client: FlaskClient, world: World, bulletins: Cast) -> None:
    headers = _headers(world, "lead")

    def refs(query: str) -> set[str]:
        return {item["reference"] for item in _all(client, headers, query)}

    assert refs("&tlp=red") == {bulletins.ref("red"), bulletins.ref("red_sent")}
    assert refs("&tlp=TLP:AMBER%2BSTRICT") == {bulletins.ref("strict")}
    assert refs("&q=rouge") == {bulletins.ref("red"), bulletins.ref("red_sent")}
    assert refs(f"&q={bulletins.ref('green').lower()}") == {bulletins.ref("green")}
    assert refs("&kind=alert") == set()
    assert refs("&kind=advisory&risk=critical&year=2026") == {
        bulletins.ref(name) for name in PUBLISHED
    }
    assert refs("&year=2025") == set()
    assert refs("&published_after=2026-01-15T09:20:00Z&published_before=2026-01-15T09:30:00Z") == {
        bulletins.ref("strict"), bulletins.ref("red_sent")
    }  # fmt: skip


def test_bad_parameters_are_a_422_naming_each(
    client: FlaskClient, world: World, bulletins: Cast
) -> None:
    headers = _headers(world, "analyst")
    query = "?limit=0&kind=memo&tlp=purple&year=19&colour=red&published_after=yesterday"
    error = envelope(client.get(URL + query, headers=headers), 422, "validation_failed")
    assert set(error["fields"]) == {"limit", "kind", "tlp", "year", "colour", "published_after"}
    for query, field in (
        ("?limit=101", "limit"),
        ("?after=bm90LWEtY3Vyc29y", "after"),
        ("?before=%%%", "before"),
        ("?offset=2&after=x", "offset"),
        ("?q=" + "x" * 201, "q"),
        ("?published_before=2026-01-01T00:00:00", "published_before"),
    ):
        assert field in envelope(client.get(URL + query, headers=headers), 422)["fields"], query
    reference = bulletins.ref("clear")
    error = envelope(client.get(f"{URL}/{reference}.txt?lang=de", headers=headers), 422)
    assert set(error["fields"]) == {"lang"}


def test_pages_neither_repeat_nor_miss_while_bulletins_are_published(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    headers = _headers(world, "other_reporter")
    for n in range(7):
        clock.advance(minutes=1)
        published(db_session, clock, world, texts=title(f"Bulletin {n}"))
    first = client.get(f"{URL}?limit=3", headers=headers).get_json()
    assert first["total"] == 7 and first["previous"] is None and len(first["items"]) == 3
    seen = [item["reference"] for item in first["items"]]
    clock.advance(minutes=1)
    newest = published(db_session, clock, world, texts=title("Publié entre deux pages"))[0]
    url = first["next"]
    pages = [first]
    while url:
        page = client.get(url, headers=headers).get_json()
        pages.append(page)
        seen += [item["reference"] for item in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 7 and newest.reference not in seen
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    back = client.get(pages[2]["previous"], headers=headers).get_json()
    assert [i["reference"] for i in back["items"]] == [i["reference"] for i in pages[1]["items"]]
    by_offset = client.get(f"{URL}?limit=4&offset=4", headers=headers).get_json()
    assert len(by_offset["items"]) == 4 and by_offset["next"] is None and by_offset["previous"]


def test_the_openapi_document_lists_the_bulletin_routes(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    listing = paths[URL]["get"]
    query = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert {"kind", "tlp", "risk", "status", "year", "q", "published_after",
            "published_before", "after", "before", "limit", "offset"} <= query  # fmt: skip
    assert "422" in listing["responses"] and "401" in listing["responses"]
    detail = paths[f"{URL}/{{reference}}"]["get"]
    assert "404" in detail["responses"]
    rendition = paths[f"{URL}/{{reference}}.{{suffix}}"]["get"]
    assert {p["name"] for p in rendition["parameters"]} == {"reference", "suffix", "lang"}
    schemas = document["components"]["schemas"]
    assert {"texts", "revisions", "indicators", "scores", "renditions"} <= set(
        schemas["BulletinOut"]["properties"]
    )


def test_a_page_costs_the_same_queries_whatever_its_length(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    """No query per bulletin: the list, a staff list of drafts, the archive and the feeds."""
    from bulletins.authoring import services as svc
    from tests.bulletins.test_authoring import draft, people

    headers, lead = _headers(world, "reporter"), _headers(world, "lead")
    urls = [(URL, headers), (f"{URL}?status=draft", lead), ("/advisories", {}),
            ("/advisories/feed.rss", {}), ("/advisories/feed.atom", {})]  # fmt: skip
    bind = db_session.get_bind()

    def count() -> list[int]:
        counts = []
        for url, given in urls:
            statements: list[str] = []

            def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
                statements.append(statement)  # noqa: B023  (listened to while this loop runs)

            event.listen(bind, "before_cursor_execute", record)
            try:
                assert client.get(url, headers=given).status_code == 200, url
            finally:
                event.remove(bind, "before_cursor_execute", record)
            counts.append(len(statements))
        return counts

    def more(n: int) -> None:
        for i in range(n):
            clock.advance(minutes=1)
            published(db_session, clock, world, texts=title(f"B{i}", ar={"title": "ع"}))
            svc.create_draft(db_session, people(world)[0], draft(), clock=clock)

    more(2)
    few = count()
    more(10)
    assert count() == few
