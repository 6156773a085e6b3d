"""Fixtures of the incident tests: ``cross``, the scene of two ministries whose reports were
merged across organisations (:mod:`tests.incidents.cross_scene`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.incidents.cross_scene import Cross, build
from tests.kit.world import World


@pytest.fixture
def cross(world: World, settings: dict[str, Any]) -> Cross:
    return build(world, Path(settings["upload_dir"]))
