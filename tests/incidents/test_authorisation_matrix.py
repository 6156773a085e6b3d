"""Who gets what on every incident route of the web UI and the REST API.

The table below names, for each route found in ``app.url_map`` (blueprints ``incidents``,
``incident_file``, ``queue``, ``dashboard``, ``misp_export``, the API under
``/api/v1/incidents``, and any other slice's route with an incident's ``<reference>``), the
outcome each role must get. A new route without a row fails :func:`test_every_route_has_a_row`.
The vigilance centres' dimension (an analyst of another centre, shares) applies this table in
``test_authorisation_centres.py``.

Rules: reporters see only their organisation's incidents (another organisation's → 404, never
403); reporters get 403, or a redirect to their own pages, on CERT-only pages and actions;
analysts get 404 on a TLP:RED incident they are not named on; its assignee and leads succeed;
anonymous web callers are sent to /login, anonymous API callers get 401. Denied roles must be
refused before the (empty, hence invalid) body is validated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.models import Incident
from incidents.queue import saved_filters
from incidents.queue.filter import QueueFilter
from incidents.workspace import workflow
from tests.incidents.centre_scene import dress
from tests.kit.callers import Caller
from tests.kit.factories import make_user, report
from tests.kit.web import text
from tests.kit.world import World

# ------------------------------------------------------------------ outcomes and roles
OK = "allowed"  # past authorisation: 2xx, a redirect elsewhere than /login, or 400/409/422
LOGIN = "login"  # 302 to /login
MINE = "own pages"  # 302 to the reporter's own pages (/incidents/mine, /track/…)
E401, E403, E404 = "401", "403", "404"

ANON, OWN, OTHER, AMBER, RED, ASSIGNEE, LEAD = ROLES = (
    "anonymous",
    "reporter",  # of the incident's organisation
    "other-reporter",  # of another organisation
    "analyst-amber",  # analyst, not named, on the TLP:AMBER incident
    "analyst-red",  # the same analyst on the TLP:RED incident
    "assignee",  # the assignee of the TLP:RED incident
    "lead",  # a lead, on the TLP:RED incident
)

# Rows in the order of ROLES. Shorthands for the common rows:
W_STAFF = (LOGIN, E403, E404, OK, E404, OK, OK)  # incident-scoped, CERT only (web)
W_SEEN = (LOGIN, OK, E404, OK, E404, OK, OK)  # incident-scoped, whoever sees it (web)
A_STAFF = (E401, E403, E404, OK, E404, OK, OK)  # incident-scoped, CERT only (API)
A_SEEN = (E401, OK, E404, OK, E404, OK, OK)  # incident-scoped, whoever sees it (API)
W_LIST_STAFF = (LOGIN, E403, E403, OK, OK, OK, OK)  # not incident-scoped, CERT only
W_LIST_ALL = (LOGIN, OK, OK, OK, OK, OK, OK)  # not incident-scoped, any signed-in user
A_LIST_ALL = (E401, OK, OK, OK, OK, OK, OK)

R = "/incidents/<reference>"
A = "/api/v1/incidents/<reference>"
TABLE: dict[str, tuple[str, ...]] = {
    # ---- web: the incident file (incident_file) and the reporter pages (incidents)
    f"GET {R}": (LOGIN, MINE, E404, OK, E404, OK, OK),
    f"POST {R}/status": W_STAFF,
    f"POST {R}/assign": W_STAFF,
    f"POST {R}/priority": W_STAFF,
    f"POST {R}/classification": W_STAFF,
    f"POST {R}/markings": W_STAFF,
    f"POST {R}/participants": W_STAFF,
    f"POST {R}/participants/<int:user_id>/remove": W_STAFF,
    f"POST {R}/comments": W_STAFF,
    f"POST {R}/replies": W_STAFF,
    f"POST {R}/observables": W_STAFF,
    f"POST {R}/observables/<int:observable_id>/remove": W_STAFF,
    f"POST {R}/tasks": W_STAFF,
    f"POST {R}/tasks/<int:task_id>/done": W_STAFF,
    f"POST {R}/tasks/templates": W_STAFF,
    f"POST {R}/links": W_STAFF,
    f"POST {R}/links/<other>/remove": W_STAFF,
    f"POST {R}/merge": W_STAFF,
    f"POST {R}/transfer": W_STAFF,  # vigilance centres (tests/incidents/centres: the centres)
    f"POST {R}/shares": W_STAFF,
    f"POST {R}/shares/<centre>/remove": W_STAFF,
    f"POST {R}/playbooks": (LOGIN, E403, E403, OK, E404, OK, OK),  # staff first, then 404
    f"GET {R}/submitted": W_SEEN,
    f"GET {R}/attachments/<int:attachment_id>": W_SEEN,
    f"GET {R}/report.pdf": W_SEEN,
    # the MISP event: whoever sees the incident, but never a TLP:RED one
    f"GET {R}/misp.json": (LOGIN, OK, E404, OK, E404, E403, E403),
    f"GET {R}/stix": (LOGIN, E403, E404, OK, E404, E403, E403),  # staff; RED never leaves
    "GET /track/<reference>": W_SEEN,
    "POST /track/<reference>/answer": (LOGIN, OK, E404, E403, E404, E403, E403),
    "GET /incidents/mine": W_LIST_ALL,
    "GET /incidents/new": W_LIST_ALL,
    "POST /incidents/new": W_LIST_ALL,
    "GET /assets/incidents/<path:filename>": (OK, OK, OK, OK, OK, OK, OK),
    # ---- web: queue and dashboard
    "GET /queue": (LOGIN, MINE, MINE, OK, OK, OK, OK),
    "GET /queue.csv": W_LIST_STAFF,
    "GET /queue/new-count": W_LIST_STAFF,
    "POST /queue/filters": W_LIST_STAFF,
    "POST /queue/filters/<int:filter_id>/delete": W_LIST_STAFF,
    "POST /queue/bulk": W_LIST_STAFF,
    "GET /dashboard": W_LIST_ALL,
    "GET /stats.csv": W_LIST_STAFF,
    "GET /stats.json": W_LIST_STAFF,
    # ---- REST API
    "GET /api/v1/incidents": A_LIST_ALL,
    "POST /api/v1/incidents": A_LIST_ALL,
    f"GET {A}": A_SEEN,
    f"GET {A}/timeline": A_SEEN,
    f"POST {A}/attachments": A_SEEN,
    f"POST {A}/replies": A_SEEN,  # staff reply, reporters answer
    f"POST {A}/comments": A_STAFF,
    f"POST {A}/status": A_STAFF,
    f"POST {A}/assign": A_STAFF,
    f"POST {A}/priority": A_STAFF,
    f"POST {A}/merge": A_STAFF,
    f"POST {A}/transfer": A_STAFF,
    f"POST {A}/shares": A_STAFF,
    f"DELETE {A}/shares/<centre>": A_STAFF,
    f"GET {A}/links": A_STAFF,
    f"POST {A}/links": A_STAFF,
    f"GET {A}/tasks": A_STAFF,
    f"POST {A}/tasks": A_STAFF,
    f"POST {A}/tasks/templates": A_STAFF,
    f"POST {A}/tasks/<int:task_id>": A_STAFF,
    f"GET {A}/misp": (E401, OK, E404, OK, E404, E403, E403),
    # whoever sees it, but a TLP:RED incident never leaves (incidents.sharing.export)
    f"GET {A}/stix": (E401, OK, E404, OK, E404, E403, E403),
}


BLUEPRINTS = {"incidents", "incident_file", "queue", "dashboard", "misp_export", "sharing"}
STATS = {"/stats.csv", "/stats.json"}
OTHER_REFERENCES = ("/advisories/", "/api/v1/bulletins/")  # a bulletin's reference


def incident_routes(app: Flask) -> set[str]:
    """``METHOD rule`` of every incident route the application serves."""
    found = set()
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else ""
        if (
            blueprint in BLUEPRINTS
            or rule.rule.startswith("/api/v1/incidents")
            or rule.rule in STATS
            or "<reference>" in rule.rule  # an incident's route of any slice (playbooks…)
        ) and not rule.rule.startswith(OTHER_REFERENCES):
            found |= {
                f"{m} {rule.rule}" for m in rule.methods or () if m not in {"HEAD", "OPTIONS"}
            }
    return found


def test_every_route_has_a_row(app: Flask) -> None:
    assert incident_routes(app) == set(TABLE)
    assert all(len(row) == len(ROLES) for row in TABLE.values())


# ------------------------------------------------------------------ the world
@dataclass
class Scene:
    world: World
    assignee: User
    amber: Incident
    red: Incident
    ids: dict[int, dict[str, Any]]  # incident id → path parameters of its sub-resources
    filter_ids: dict[int, int]  # user id → one of their saved filters


@pytest.fixture
def scene(db_session: Session, clock: FrozenClock, settings: dict[str, Any], world: World) -> Scene:
    assignee = make_user(db_session, clock, role=Role.ANALYST, email="assignee@cert.ma")
    helper = make_user(db_session, clock, role=Role.ANALYST, email="helper@cert.ma", password=None)
    amber = report(db_session, clock, world.reporter, tlp="TLP:AMBER")
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")
    peer = report(db_session, clock, world.reporter)
    workflow.assign(db_session, Actor.for_user(world.lead), red, assignee, clock=clock)
    upload_dir = Path(settings["upload_dir"])
    ids = {
        i.id: dress(db_session, clock, i, world.lead, helper, peer, upload_dir, "evil.example")
        for i in (amber, red)
    }
    filter_ids = {
        user.id: saved_filters.save_filter(
            db_session, Actor.for_user(user), "Mine", QueueFilter(), clock=clock
        ).id
        for user in (world.analyst, assignee, world.lead)
    }
    db_session.flush()
    return Scene(world, assignee, amber, red, ids, filter_ids)


def _user(scene: Scene, role: str) -> User | None:
    world = scene.world
    people = {
        OWN: world.reporter,
        OTHER: world.other_reporter,
        AMBER: world.analyst,
        RED: world.analyst,
    }
    return {**people, ASSIGNEE: scene.assignee, LEAD: world.lead}.get(role)


def _path(route: str, scene: Scene, role: str) -> str:
    rule = route.split(" ", 1)[1]
    incident = scene.amber if role in {OWN, OTHER, AMBER} else scene.red
    user = _user(scene, role)
    params = {
        **scene.ids[incident.id],
        "filename": "file.css",
        "centre": "national",
        "filter_id": scene.filter_ids.get(user.id if user else 0, 0),
    }
    for name, value in params.items():
        rule = rule.replace(f"<{name}>", str(value)).replace(f"<int:{name}>", str(value))
        rule = rule.replace(f"<path:{name}>", str(value))
    return rule


def _classify(response: TestResponse) -> str:
    response.get_data()
    response.close()  # attachments are streamed from disk
    location = response.headers.get("Location", "")
    if response.status_code in {301, 302, 303}:
        if location.startswith("/login"):
            return LOGIN
        if location.startswith(("/incidents/mine", "/track/")):
            return MINE
        return OK
    if response.status_code in {401, 403, 404}:
        return str(response.status_code)
    assert response.status_code < 500, text(response)
    return OK


def _matches(expected: str, actual: str) -> bool:
    # A redirect to one's own pages is also "allowed" for staff actions that land on /track/.
    return expected == actual or (expected == OK and actual == MINE)


# ------------------------------------------------------------------ the matrix
FAMILIES: dict[str, Callable[[str], bool]] = {
    "web-incident": lambda r: not r.split(" ")[1].startswith("/api/") and "<reference>" in r,
    "web-other": lambda r: not r.split(" ")[1].startswith("/api/") and "<reference>" not in r,
    "api": lambda r: r.split(" ")[1].startswith("/api/"),
}


def test_families_cover_the_table() -> None:
    covered = [route for route in TABLE for belongs in FAMILIES.values() if belongs(route)]
    assert sorted(covered) == sorted(TABLE)


# make test runs the columns where a leak would show (anonymous, another organisation's reporter,
# an analyst on a TLP:RED incident they are not named on); make proof adds the allowed columns.
DENIED = (ANON, OTHER, RED)


@pytest.mark.parametrize(
    "role", [r if r in DENIED else pytest.param(r, marks=pytest.mark.proof) for r in ROLES]
)
@pytest.mark.parametrize("family", FAMILIES)
def test_matrix(
    family: str, role: str, scene: Scene, client: FlaskClient, db_session: Session,
    clock: FrozenClock,
) -> None:  # fmt: skip
    caller = Caller(client, db_session, clock, _user(scene, role))
    column = ROLES.index(role)
    wrong = {}
    for route in sorted(r for r in TABLE if FAMILIES[family](r)):
        response = caller.send(route, _path(route, scene, role))
        actual, expected = _classify(response), TABLE[route][column]
        if not _matches(expected, actual):
            wrong[route] = f"expected {expected}, got {actual} ({response.status_code})"
    assert wrong == {}
