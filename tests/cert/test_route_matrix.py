"""Every route of ``app.url_map`` × every role: who is refused, on both databases.

``tests/incidents/test_authorisation_matrix.py`` owns the incident routes (its ``TABLE``: every
route with an incident's ``<reference>``, the queue, the dashboard, the incident API and exports),
with the TLP dimension (AMBER, RED) and two organisations; ``test_authorisation_centres.py`` adds
the vigilance centres. This module owns every *other* route (``ACCESS``): accounts and
administration, bulletins (authoring, distribution lists and deliveries, downloads, the public
archive), playbooks (pages, runs, triggers and schedules, their API), feeds, enrichment, the
mailbox, intelligence, notifications, the TAXII server, health and static files.
:func:`test_every_route_is_in_a_table` fails when the application serves a route that neither
table names, so that a new route cannot escape: the two tables together cover every rule.

Each route gets the path parameters of a real row where one exists (the TLP:RED bulletin, a
distribution list, a playbook and its run, the world's users and organisations), so that a
refusal is a refusal of access, not of a missing row. A refused role must get 401, 403, 404 or
the login page (a reporter may be sent to its own pages): any other answer is a leak. ``make
test`` runs the refused side of every route for every role; ``make proof`` adds the allowed
side (never refused as 401/403/login; a 404 only where the path names no seeded row).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bulletins.models import ListKind
from core.clock import FrozenClock
from core.identity.models import User
from incidents.sharing.collections import COLLECTIONS
from incidents.sharing.taxii_params import TAXII_MEDIA
from tests.bulletins.lists import make_list
from tests.bulletins.public_kit import cast
from tests.cert.route_access import (
    ACCESS,
    ADMIN,
    ANALYST,
    LEAD,
    OTHER,
    REPORTER,
    ROLES,
)
from tests.incidents.test_authorisation_matrix import TABLE, incident_routes
from tests.kit.api import bearer
from tests.kit.factories import PASSWORD, make_token
from tests.kit.web import csrf_token, login, text
from tests.kit.world import World
from tests.playbooks.checks_kit import new_run

REFUSED = (401, 403, 404)
# steps of the sign-in: without a sign-in under way (or once signed out), back to the login page
SIGN_IN_STEPS = {
    "GET /login/two-factor", "POST /login/two-factor", "GET /login/two-factor/enrol",
    "POST /login/two-factor/enrol", "POST /logout",
}  # fmt: skip
OWN_PAGES = ("/login", "/incidents/mine", "/track/")  # where a refused caller is sent


def served(app: Flask) -> set[str]:
    """``METHOD rule`` of every route the application serves."""
    return {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }


def test_every_route_is_in_a_table(app: Flask) -> None:
    routes = served(app)
    assert incident_routes(app) <= set(TABLE)
    assert routes - set(TABLE) - set(ACCESS) == set(), "routes no authorisation table names"
    assert set(ACCESS) - routes == set(), "rows of routes the application no longer serves"
    assert set(ACCESS) & set(TABLE) == set()
    # the coverage figure of the report: every rule is in one table or the other
    assert len(routes & (set(TABLE) | set(ACCESS))) == len(routes) >= 240


# ------------------------------------------------------------------ the scene
@dataclass
class Scene:
    world: World
    params: dict[str, str]  # path parameter → a seeded row's value
    lists: str  # a distribution list's slug
    centre: str  # a vigilance centre's slug


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, world: World) -> Scene:
    bulletins = cast(db_session, clock, world)
    red = bulletins.bulletins["red"]  # TLP:RED, delivered to no one
    dlist = make_list(db_session, clock, "interieur-rssi", ListKind.ORGANISATION,
                      organisation_id=world.interieur.id)  # fmt: skip
    run = new_run(
        db_session, clock, world.interieur, {"type": "manual", "command": "Isolate the hosts"}
    )
    db_session.flush()
    params = {
        "reference": bulletins.ref("red"),
        "bulletin_id": str(red.id),
        "suffix": "txt",
        "format": "text",
        "playbook_id": str(run.playbook_id),
        "run_id": str(run.id),
        "user_id": str(world.reporter.id),
        "organisation_id": str(world.interieur.id),
        "token": "x" * 43,
        "name": "no-such-feed",
        "rest": "elsewhere/",
        "object_id": "indicator--00000000-0000-4000-8000-000000000000",
        "external_id": "T1566",
        "filename": "missing.css",
        "token_id": "999999",  # nor the caller's own token
        "session_id": "999999",  # not the caller's own: ending that one signs out
        "action": "enable",
        "kind": "triggers",
    }
    return Scene(world, params, dlist.slug, "national")


def _path(route: str, scene: Scene) -> str:
    rule = route.split(" ", 1)[1]
    params = dict(scene.params)
    params["slug"] = scene.lists if rule.startswith("/bulletins/") else scene.centre
    if rule.startswith("/taxii2/"):
        params["ident"] = COLLECTIONS[2].id  # TLP:AMBER
    elif rule.startswith("/api/v1/playbooks/"):
        params["ident"] = params["playbook_id"]
    for part in rule.split("<")[1:]:
        spec = part.split(">", 1)[0]
        name = spec.rsplit(":", 1)[-1]
        rule = rule.replace(f"<{spec}>", params.get(name, "1"))
    return rule


@dataclass
class Role:
    client: FlaskClient
    headers: dict[str, str]
    csrf: str

    def send(self, route: str, path: str) -> TestResponse:
        method = route.split(" ", 1)[0]
        if path.startswith("/taxii2/"):
            taxii = {"Accept": TAXII_MEDIA, **self.headers}
            if method in {"GET", "DELETE"}:
                return self.client.open(path, method=method, headers=taxii)
            return self.client.open(
                path, method=method, data="{}", headers={**taxii, "Content-Type": TAXII_MEDIA}
            )
        if path.startswith("/api/"):
            return self.client.open(path, method=method, json={}, headers=self.headers)
        if method == "GET":
            return self.client.get(path)
        return self.client.post(path, data={"csrf_token": self.csrf})


def _role(client: FlaskClient, session: Session, clock: FrozenClock, user: User | None) -> Role:
    headers = bearer(make_token(session, clock, user)[1]) if user else {}
    if user is not None:
        assert login(client, user.email, PASSWORD).status_code == 302
    page = "/account" if user is not None else "/login"
    return Role(client, headers, csrf_token(text(client.get(page))))


def refused(response: TestResponse) -> bool:
    response.get_data()
    response.close()
    if response.status_code in {301, 302, 303}:
        return response.headers.get("Location", "").startswith(OWN_PAGES)
    assert response.status_code < 500, text(response)
    return response.status_code in REFUSED


def _answers(role: str, scene: Scene, client: FlaskClient, session: Session, clock: FrozenClock,
             *, allowed: bool) -> dict[str, str]:  # fmt: skip
    """The routes where ``role`` is (``allowed``) or is not let in, whose answer says otherwise."""
    world = scene.world
    user = {REPORTER: world.reporter, OTHER: world.other_reporter, ANALYST: world.analyst,
            LEAD: world.lead, ADMIN: world.admin}.get(role)  # fmt: skip
    caller = _role(client, session, clock, user)
    wrong = {}
    chosen = [r for r in ACCESS if (role in ACCESS[r]) is allowed]
    for route in sorted(chosen, key=lambda r: (r.endswith(DESTRUCTIVE), r)):
        response = caller.send(route, _path(route, scene))
        status, location = response.status_code, response.headers.get("Location", "")
        denied = refused(response)
        seeded_404 = status == 404 and "<" in route and not _unseeded(route)
        step = route in SIGN_IN_STEPS and location.startswith("/login")
        if allowed and denied and not step and (status != 404 or seeded_404):
            wrong[route] = f"refused: {status} {location} {text(response)[:160]}"
        if not allowed and not denied:
            wrong[route] = f"LEAK: {status} {location}"
    return wrong


# sent last: they delete the scene's rows the other routes are sent to
DESTRUCTIVE = ("/delete", "/remove", "/deactivate")
# the reporter is no member of the centre: a 404 there is the row's absence
NOT_MEMBERS = {
    "POST /admin/centres/<slug>/members/<int:user_id>/duty",
    "POST /admin/centres/<slug>/members/<int:user_id>/remove",
}


def _unseeded(route: str) -> bool:
    """A route whose path names a row the scene does not make (a 404 is then its answer)."""
    return route in NOT_MEMBERS or any(
        f"<{name}>" in route or f":{name}>" in route
        for name in ("name", "token", "object_id", "rest", "filename", "external_id",
                     "token_id", "session_id", "asset_id", "shift_id", "trigger_id",
                     "schedule_id", "item_id", "mail_id", "indicator_id", "notification_id")
    )  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_no_role_gets_what_it_may_not(
    role: str, scene: Scene, client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    assert _answers(role, scene, client, db_session, clock, allowed=False) == {}


@pytest.mark.proof
@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_what_it_may(
    role: str, scene: Scene, client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    wrong = _answers(role, scene, client, db_session, clock, allowed=True)
    assert wrong == {}, "\n".join(f"{k}: {v}" for k, v in sorted(wrong.items()))
