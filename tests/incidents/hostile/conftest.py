"""Fixtures and checks of the hostile-input suite (README, "Input limits"): a world, a report, a
lead's token, a signed-in admin, and :func:`nothing_written` / :func:`named`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.models import Organisation, Role
from core.outbox import OutboxMessage
from incidents.models import (
    Attachment,
    Incident,
    IncidentEvent,
    IncidentObservable,
    IncidentTask,
)
from tests.incidents.workspace_helpers import World, make_world, report
from tests.kit.api import bearer, envelope
from tests.kit.factories import PASSWORD, make_token, make_user
from tests.kit.web import login

API = "/api/v1/incidents"
TABLES = (Incident, IncidentEvent, IncidentObservable, IncidentTask, Attachment, AuditEntry)


def counts(session: Session) -> dict[str, int]:
    """Rows of every table a request could write to."""
    tables: tuple[Any, ...] = (*TABLES, OutboxMessage)
    return {
        t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in tables
    }


@pytest.fixture
def w(db_session: Session, clock: FrozenClock) -> World:
    return make_world(db_session, clock)  # no passwords: hashing is slow


def signed_in(client: FlaskClient, session: Session, clock: FrozenClock, role: str) -> FlaskClient:
    """``client`` signed in as a new user with ``role`` (CERT staff, or a reporter of
    min-interieur)."""
    org = None
    if role == Role.REPORTER:
        org = session.scalars(select(Organisation).filter_by(slug="min-interieur")).one()
    user = make_user(session, clock, role=role, org=org, email=f"{role}-web@cert.ma")
    login(client, user.email, PASSWORD)
    return client


@pytest.fixture
def ref(db_session: Session, clock: FrozenClock, w: World) -> str:
    return report(db_session, clock, w.reporter).reference


@pytest.fixture
def lead(db_session: Session, clock: FrozenClock, w: World) -> dict[str, str]:
    return bearer(make_token(db_session, clock, w.lead)[1])


@pytest.fixture
def admin(client: FlaskClient, db_session: Session, clock: FrozenClock, w: World) -> FlaskClient:
    return signed_in(client, db_session, clock, Role.ADMIN)


@contextmanager
def nothing_written(session: Session) -> Iterator[None]:
    """The requests made inside leave every table as it was."""
    before = counts(session)
    yield
    session.expire_all()
    assert counts(session) == before


def named(response: Any, status: int, field: str) -> None:
    error = envelope(response, status)
    assert field in error["fields"], error
