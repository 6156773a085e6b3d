"""Fixtures of the incident tests: ``incident``, a phishing report of the world's reporter, and
``cross``, the scene of two ministries whose reports were merged across organisations
(:mod:`tests.incidents.cross_scene`). A module that needs another incident defines its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import User
from incidents.models import Incident
from tests.incidents.cross_scene import Cross, build
from tests.kit.factories import report
from tests.kit.world import World


@pytest.fixture
def cross(world: World, settings: dict[str, Any]) -> Cross:
    return build(world, Path(settings["upload_dir"]))


@pytest.fixture
def incident(db_session: Session, clock: FrozenClock, reporter: User) -> Incident:
    return report(db_session, clock, reporter)
