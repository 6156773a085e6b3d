"""Fixtures shared by the API intake tests: a ministry and its reporter's API token.

A module that needs another organisation or reporter defines its own fixture of the same name,
which takes precedence over these.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.models import Organisation
from tests.factories import make_org
from tests.kit.api import api_user


@pytest.fixture
def interieur(db_session: Session, clock: FrozenClock) -> Organisation:
    return make_org(db_session, clock, slug="min-interieur", name="Ministère de l'Intérieur")


@pytest.fixture
def reporter(db_session: Session, clock: FrozenClock, interieur: Organisation) -> str:
    """The bearer token of rssi@interieur.gov.ma, a reporter of the ministry."""
    return api_user(db_session, clock, interieur, email="rssi@interieur.gov.ma")[1]
