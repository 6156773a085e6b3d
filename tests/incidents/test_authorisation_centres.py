"""The authorisation matrix's centre dimension: every incident route (the routes of
``test_authorisation_matrix.TABLE`` with ``<reference>``, found in ``app.url_map``) for the
actors of the vigilance centres on the incidents of each (``tests.incidents.centre_scene``).

What an actor may do with an incident is one of:

* ``work``: the matrix's row for an analyst who works it (its ``analyst-amber`` column; on a
  TLP:RED incident, the ``assignee`` column — a TLP:RED incident never leaves by MISP or STIX);
* ``read`` (shared with the actor's centre read-only): the same on GET routes, 403 on every
  write (POST);
* ``none``: the matrix's row for an analyst who may not see it (404 on every incident route);
* ``own`` / ``other``: a reporter of the incident's organisation, or of another one.

The national centre's analyst and the lead see both centres; each centre's analyst only their
own; TLP:RED stays with its assignee (of the finance centre) and leads; a named participant
works another centre's incident. Then the health incident is shared with the finance centre:
read (reads 200, writes 403), work (writes too), unshared (404 everywhere again). Both
databases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import User
from incidents.models import Incident, ShareMode
from tests.incidents import centre_scene
from tests.incidents.centre_scene import Centres
from tests.incidents.test_authorisation_matrix import (
    E403,
    TABLE,
    _classify,
    _matches,
    incident_routes,
)
from tests.kit.callers import Caller
from tests.kit.world import World

WORK, READ, NONE, OWN, OTHER = "work", "read", "none", "own", "other"
ACTORS = ("health-analyst", "finance-analyst", "national", "lead", "participant", "reporter")
INCIDENTS = ("health", "health_red", "finance")
# what each actor may do with each incident, before any share
ACCESS: dict[str, dict[str, str]] = {
    "health-analyst": {"health": WORK, "health_red": NONE, "finance": NONE},
    "finance-analyst": {"health": NONE, "health_red": WORK, "finance": WORK},  # red: assignee
    "national": {"health": WORK, "health_red": NONE, "finance": WORK},
    "lead": {"health": WORK, "health_red": WORK, "finance": WORK},
    "participant": {"health": WORK, "health_red": NONE, "finance": WORK},  # named on finance
    "reporter": {"health": OWN, "health_red": OWN, "finance": OTHER},
}
# the column of test_authorisation_matrix.TABLE each kind of access follows
COLUMN = {OWN: 1, OTHER: 2, WORK: 3, NONE: 4}
RED_WORK = 5  # the assignee of a TLP:RED incident


def routes(app: Flask) -> list[str]:
    """Every incident route the application serves (with ``<reference>``)."""
    return sorted(r for r in incident_routes(app) if "<reference>" in r)


def expected(route: str, access: str, incident: Incident) -> str:
    row = TABLE[route]
    if access == READ:
        return E403 if not route.startswith("GET ") else row[COLUMN[WORK]]  # every change: 403
    leaves = route.startswith("GET ") and row[RED_WORK] == E403  # the MISP and STIX exports
    if incident.tlp == "TLP:RED" and (access == WORK or (access == OWN and leaves)):
        return row[RED_WORK]  # and a TLP:RED incident never leaves (MISP, STIX): 403
    return row[COLUMN[access]]


@pytest.fixture
def centres(
    db_session: Session, clock: FrozenClock, settings: dict[str, Any], world: World
) -> Centres:
    return centre_scene.build(db_session, clock, world, Path(settings["upload_dir"]))


def actor_user(c: Centres, actor: str) -> User:
    return {
        "health-analyst": c.health_analyst,
        "finance-analyst": c.finance_analyst,
        "national": c.national,
        "lead": c.lead,
        "participant": c.participant,
        "reporter": c.reporter,
    }[actor]


def path(route: str, c: Centres, incident: Incident) -> str:
    rule = route.split(" ", 1)[1]
    for name, value in c.ids[incident.id].items():
        for form in (f"<{name}>", f"<int:{name}>"):
            rule = rule.replace(form, str(value))
    return rule


def wrong_answers(
    app: Flask, client: FlaskClient, session: Session, clock: FrozenClock, user: User,
    incident: Incident, c: Centres, access: str,
) -> dict[str, str]:  # fmt: skip
    """Every incident route as ``user`` on ``incident``: those whose answer is not expected."""
    caller = Caller(client, session, clock, user)
    wrong = {}
    for route in routes(app):
        response = caller.send(route, path(route, c, incident))
        actual, want = _classify(response), expected(route, access, incident)
        if not _matches(want, actual):
            wrong[route] = f"expected {want}, got {actual} ({response.status_code})"
    return wrong


def test_the_scene_is_routed(centres: Centres) -> None:
    assert centres.health.centre_id == centres.health_centre.id
    assert centres.health_red.centre_id == centres.health_centre.id
    assert centres.finance.centre_id == centres.finance_centre.id


def test_every_incident_route_has_a_row(app: Flask) -> None:
    assert routes(app)
    assert [r for r in routes(app) if r not in TABLE] == []


# make test runs the cells where the actor must be refused (a leak would show there); make proof
# adds the cells where the actor works on or reads the incident.
@pytest.mark.parametrize(
    ("actor", "name"),
    [
        pytest.param(
            actor, name, marks=[pytest.mark.proof] if ACCESS[actor][name] in (WORK, OWN) else []
        )
        for actor in ACTORS
        for name in INCIDENTS
    ],
)
def test_centre_matrix(
    actor: str, name: str, centres: Centres, app: Flask, client: FlaskClient,
    db_session: Session, clock: FrozenClock,
) -> None:  # fmt: skip
    incident = getattr(centres, name)
    access = ACCESS[actor][name]
    user = actor_user(centres, actor)
    assert wrong_answers(app, client, db_session, clock, user, incident, centres, access) == {}


@pytest.mark.parametrize(
    "mode,access", [(ShareMode.READ, READ), (ShareMode.WORK, WORK), (None, NONE)]
)
def test_sharing_the_health_incident_with_finance(
    mode: ShareMode | None, access: str, centres: Centres, app: Flask, client: FlaskClient,
    db_session: Session, clock: FrozenClock,
) -> None:  # fmt: skip
    """Read share: reads 200, writes 403; work share: writes too; unshared: 404 again. The
    linked peer is shared alike (unlinking changes both incidents)."""
    health, finance = centres.health, centres.finance_centre
    for incident in (health, centres.health_peer):
        centre_scene.share(db_session, incident, finance, ShareMode.WORK)
        if mode is None:
            centre_scene.unshare(db_session, incident, finance)
        else:
            centre_scene.share(db_session, incident, finance, mode)
    user = centres.finance_analyst
    assert wrong_answers(app, client, db_session, clock, user, health, centres, access) == {}
