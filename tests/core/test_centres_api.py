"""``GET /api/v1/centres``: CERT staff list the centres (the national one first, with its
constituency empty), paginated; reporters are refused, bad pagination named — both databases."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.auth import centre_admin, centre_members
from core.clock import FrozenClock
from tests.kit.api import envelope
from tests.kit.factories import SYSTEM
from tests.kit.world import World


def test_staff_list_the_centres(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sante  # noqa: B018
    health = centre_admin.create_centre(
        db_session, SYSTEM, slug="sante", name="Centre santé", name_ar="مركز الصحة",
        organisations=["min-sante"], sectors=["health"], categories=["fraud"], clock=clock,
    )  # fmt: skip
    centre_admin.create_centre(db_session, SYSTEM, slug="finance", name="Finance", clock=clock)
    db_session.flush()
    centre_members.add_member(db_session, SYSTEM, health, world.analyst2, clock=clock)
    db_session.flush()
    response = client.get("/api/v1/centres", headers=world.headers(world.analyst))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total"] == 3 and body["next"] is None
    national, finance, sante = body["items"]
    assert (national["slug"], national["national"]) == ("national", True)
    assert national["constituency"] == {
        "organisations": [], "sectors": [], "regions": [], "categories": [],
    }  # fmt: skip
    assert national["members"] >= 2  # the analysts created in it
    assert sante == {
        "slug": "sante",
        "name": "Centre santé",
        "name_ar": "مركز الصحة",
        "national": False,
        "constituency": {
            "organisations": ["min-sante"], "sectors": ["health"], "regions": [],
            "categories": ["fraud"],
        },
        "members": 1,
        "timezone": "Africa/Casablanca",
    }  # fmt: skip
    assert finance["members"] == 0
    page = client.get("/api/v1/centres?limit=1&offset=1", headers=world.headers(world.lead))
    assert [c["slug"] for c in page.get_json()["items"]] == ["finance"]
    assert page.get_json()["next"].endswith("offset=2")


def test_reporters_and_bad_pages_are_refused(client: FlaskClient, world: World) -> None:
    envelope(client.get("/api/v1/centres", headers=world.headers(world.reporter)), 403, "forbidden")
    error = envelope(
        client.get("/api/v1/centres?limit=0", headers=world.headers(world.analyst)), 422
    )
    assert set(error["fields"]) == {"limit"}
    envelope(client.get("/api/v1/centres"), 401, "unauthorized")
    listed = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/centres" in listed["paths"] and "CentreOut" in listed["components"]["schemas"]
