"""The queue tests' world: two ministries, an analyst and incidents reported through the intake
service; the fixtures are imported by name (and listed in __all__) where they are used."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident
from incidents.queue.query import QueueFilter, queue_page
from incidents.settings import IntakeSettings
from tests.kit.api import PHISHING
from tests.kit.factories import make_org, make_user

SETTINGS = IntakeSettings()


def report(session: Session, clock: FrozenClock, org: Organisation, **changes: Any) -> Incident:
    """An incident of ``org`` through the real intake, received now; the clock moves on a minute.

    ``state`` keys (status, assignee_id, acknowledged_at…) are then set on the row directly:
    they arrange the situation to query, the workflow has its own tests.
    """
    state = changes.pop("state", {})
    actor = Actor.for_user(make_user(session, clock, org=org, password=None))
    data = IncidentSubmission.model_validate({**PHISHING, **changes})
    incident = submit_incident(session, actor, data, clock=clock, settings=SETTINGS)
    for name, value in state.items():
        setattr(incident, name, value)
    session.flush()
    clock.advance(minutes=1)
    return incident


def page(session: Session, actor: Actor, clock: FrozenClock, **args: Any) -> list[str]:
    result = queue_page(session, actor, QueueFilter.from_args(args), clock=clock, limit=100)
    return [i.reference for i in result.items]


@pytest.fixture
def interieur(db_session: Session, clock: FrozenClock) -> Organisation:
    return make_org(db_session, clock, slug="min-interieur", sector="administration")


@pytest.fixture
def sante(db_session: Session, clock: FrozenClock) -> Organisation:
    return make_org(db_session, clock, slug="min-sante", sector="health")


@pytest.fixture
def analyst_user(db_session: Session, clock: FrozenClock) -> User:
    return make_user(db_session, clock, role=Role.ANALYST, email="analyste@macert.gov.ma")


@pytest.fixture
def analyst(analyst_user: User) -> Actor:
    return Actor.for_user(analyst_user)
