"""The reporter API shows the reporter what /track and the reporter's PDF show of the observables:
their organisation's own, never one an analyst added nor one merged in from another organisation's
report (issue 17: an analyst's lead is the CERT's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from tests.incidents.reporting.reporter_scene import SECRETS, ReporterScene, build
from tests.kit.world import World

URL = "/api/v1/incidents"


@pytest.fixture
def scene(
    world: World, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> ReporterScene:
    return build(world, db_session, clock, Path(settings["upload_dir"]))


def test_the_reporter_api_lists_only_the_reported_observables(
    client: FlaskClient, world: World, scene: ReporterScene
) -> None:
    reference = scene.incident.reference
    staff = client.get(f"{URL}/{reference}", headers=world.headers(world.analyst))
    assert staff.status_code == 200
    staff_values = {o["value"] for o in staff.get_json()["observables"]}
    assert SECRETS["analyst_observable"] in staff_values  # control: it is there to leak
    mine = client.get(f"{URL}/{reference}", headers=world.headers(world.reporter))
    assert mine.status_code == 200
    values = {o["value"] for o in mine.get_json()["observables"]}
    assert values and values < staff_values  # the reporter's own, and fewer
    body = mine.get_data(as_text=True)
    assert SECRETS["analyst_observable"] not in body
    assert SECRETS["other_observable"] not in body
