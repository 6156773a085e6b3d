"""Fixtures of the routing tests: the centres' scene (route_scene.build) and a health report in
the health centre."""

from __future__ import annotations

import pytest

from incidents.models import Incident
from tests.incidents.centres.route_scene import Centres, build
from tests.kit.world import World


@pytest.fixture
def centres(world: World) -> Centres:
    return build(world)


@pytest.fixture
def incident(centres: Centres) -> Incident:
    found = centres.health_report()
    centres.world.session.commit()
    return found
