"""The queue's centre dimension (issue 22): ``?centre=`` on ``/queue``, ``/queue.csv`` and
``GET /api/v1/incidents``, the ``centre`` of each row, a sectoral analyst's default view (their
centre's queue) and the national view — and that a finance analyst asking for the health centre
gets nothing, never an error revealing anything."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import ValidationFailed
from incidents.queue.filter import QueueFilter
from incidents.queue.saved_filters import filter_of, list_filters, save_filter
from tests.incidents.queue.centres_scene import CentreScene, centre_scene
from tests.kit.api import URL, bearer, envelope
from tests.kit.factories import actor_of
from tests.kit.web import sign_in, text
from tests.kit.world import World

ROW = re.compile(r'name="incident" value="([A-Z]+-\d{4}-\d{6})"')


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, world: World) -> CentreScene:
    return centre_scene(db_session, clock, world)


def _api(client: FlaskClient, token: str, query: str = "") -> dict[str, object]:
    response = client.get(f"{URL}?{query}", headers=bearer(token))
    assert response.status_code == 200, text(response)
    body: dict[str, object] = response.get_json()
    return body


def _refs(body: dict[str, object]) -> set[str]:
    items = body["items"]
    assert isinstance(items, list)
    return {item["reference"] for item in items}


# ---------------------------------------------------------------- the filter language
def test_centre_is_a_list_filter_of_slugs() -> None:
    f = QueueFilter.from_args({"centre": ["Health,finance", "health"]})
    assert f.centre == ("health", "finance")
    assert QueueFilter.from_args(f.to_args()) == f
    with pytest.raises(ValidationFailed) as caught:
        QueueFilter.from_args({"centre": "santé publique"}, strict=True)
    assert set(caught.value.fields) == {"centre"}


# ---------------------------------------------------------------- the API
def test_the_api_filters_by_centre_and_says_each_rows_centre(
    client: FlaskClient, world: World, scene: CentreScene
) -> None:
    token = world.token(world.lead)
    whole = _api(client, token)
    items = whole["items"]
    assert isinstance(items, list)
    centres = {item["reference"]: item["centre"] for item in items}
    assert centres == {
        **{i.reference: "health" for i in scene.health_incidents},
        **{i.reference: "finance" for i in scene.finance_incidents},
        **{i.reference: "national" for i in scene.national_incidents},
    }
    assert _refs(_api(client, token, "centre=health")) == scene.refs(scene.health_incidents)
    both = _api(client, token, "centre=health&centre=FINANCE")
    assert _refs(both) == scene.refs(scene.health_incidents, scene.finance_incidents)
    assert both["total"] == 4


def test_an_unknown_centre_is_a_422_naming_centre(
    client: FlaskClient, world: World, scene: CentreScene
) -> None:
    response = client.get(f"{URL}?centre=energie", headers=bearer(world.token(world.lead)))
    error = envelope(response, 422)
    assert set(error["fields"]) == {"centre"} and "energie" in error["fields"]["centre"]
    malformed = client.get(f"{URL}?centre=%3Cscript%3E", headers=bearer(world.token(world.lead)))
    assert set(envelope(malformed, 422)["fields"]) == {"centre"}


def test_another_centres_filter_shows_nothing_and_reveals_nothing(
    client: FlaskClient, world: World, scene: CentreScene
) -> None:
    token = world.token(scene.finance_analyst)
    mine = _api(client, token)
    assert _refs(mine) == scene.refs(scene.finance_incidents)
    theirs = _api(client, token, "centre=health")
    assert theirs["items"] == [] and theirs["total"] == 0 and theirs["next"] is None
    national = _api(client, token, "centre=national")
    assert national["items"] == [] and national["total"] == 0


def test_keyset_pages_walk_a_centres_incidents(
    client: FlaskClient, world: World, scene: CentreScene, db_session: Session, clock: FrozenClock
) -> None:
    token = world.token(world.analyst)  # the national centre: every centre
    url: str | None = f"{URL}?centre=health&limit=1"
    seen: list[str] = []
    while url:
        body = client.get(url, headers=bearer(token)).get_json()
        assert [item["centre"] for item in body["items"]] == ["health"]
        seen += [item["reference"] for item in body["items"]]
        url = body["next"]
        if url:
            assert parse_qs(urlsplit(url).query)["centre"] == ["health"]
        assert len(seen) <= 2
    assert seen == [i.reference for i in reversed(scene.health_incidents)]


# ---------------------------------------------------------------- the page
def test_a_sectoral_analyst_lands_on_their_centres_queue(
    client: FlaskClient, scene: CentreScene
) -> None:
    sign_in(client, scene.finance_analyst)
    html = text(client.get("/queue"))
    assert set(ROW.findall(html)) == scene.refs(scene.finance_incidents)
    chip = re.search(r'<li class="vigie-chip">(.*?)</li>', html, re.S)
    assert chip is not None and "Centre" in chip.group(1) and "Centre de veille finances" in html
    removed = re.search(r'class="vigie-chip-remove" href="([^"]+)"', chip.group(1))
    assert removed is not None and "centre" not in parse_qs(urlsplit(removed.group(1)).query)
    assert 'class="col-centre"' in html
    # asking for the health centre shows nothing of it
    assert ROW.findall(text(client.get("/queue?centre=health"))) == []


@pytest.mark.parametrize("who", ["analyst", "lead"])
def test_the_national_view_lists_every_centre(
    client: FlaskClient, world: World, scene: CentreScene, who: str
) -> None:
    sign_in(client, world.analyst if who == "analyst" else world.lead)
    html = text(client.get("/queue"))
    assert set(ROW.findall(html)) == scene.refs(
        scene.health_incidents, scene.finance_incidents, scene.national_incidents
    )
    assert 'class="vigie-chip-name">Centre' not in html  # no centre pre-set
    for slug in ("national", "health", "finance"):
        assert f'name="centre" value="{slug}"' in html
    assert "Centre de veille santé" in html and "Centre de veille finances" in html
    filtered = text(client.get("/queue?status=open&centre=health"))
    assert set(ROW.findall(filtered)) == scene.refs(scene.health_incidents)


def test_the_page_shows_an_unknown_centre_as_a_form_error(
    client: FlaskClient, world: World, scene: CentreScene
) -> None:
    sign_in(client, world.analyst)
    response = client.get("/queue?centre=energie")
    assert response.status_code == 422
    html = text(response)
    assert "<code>centre</code>" in html and "energie" in html
    assert ROW.findall(html) == []


def test_the_arabic_queue_names_centres_in_arabic(
    client: FlaskClient, world: World, scene: CentreScene
) -> None:
    sign_in(client, world.analyst)
    html = text(client.get("/queue?lang=ar"))
    assert "مركز اليقظة للصحة" in html and "مركز اليقظة للمالية" in html


# ---------------------------------------------------------------- the CSV and saved filters
def _csv(client: FlaskClient, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/queue.csv?{query}")
    assert response.status_code == 200, text(response)
    return list(csv.DictReader(io.StringIO(text(response).lstrip("\ufeff"))))


def test_the_csv_has_a_centre_column_and_keeps_to_what_the_reader_sees(
    client: FlaskClient, app: Flask, world: World, scene: CentreScene
) -> None:
    sign_in(client, world.lead)
    rows = _csv(client)
    assert {row["reference"]: row["centre"] for row in rows} == {
        **{i.reference: "health" for i in scene.health_incidents},
        **{i.reference: "finance" for i in scene.finance_incidents},
        **{i.reference: "national" for i in scene.national_incidents},
    }
    assert {row["centre"] for row in _csv(client, "centre=finance")} == {"finance"}
    assert client.get("/queue.csv?centre=energie").status_code == 422
    client = sign_in(app.test_client(), scene.finance_analyst)
    for query in ("", "centre=health", "centre=health,finance,national", "status="):
        assert {row["centre"] for row in _csv(client, query)} <= {"finance"}
    assert {row["reference"] for row in _csv(client, "status=")} == scene.refs(
        scene.finance_incidents
    )


def test_saved_filters_keep_the_centre(
    db_session: Session, clock: FrozenClock, world: World, scene: CentreScene
) -> None:
    actor = actor_of(world.analyst)
    f = QueueFilter.from_args({"centre": "health", "status": "open"})
    save_filter(db_session, actor, "Santé ouverts", f, clock=clock)
    (saved,) = list_filters(db_session, actor)
    assert saved.args["centre"] == ["health"] and filter_of(saved) == f
