"""Fixtures and checks of the hostile-input suite (README, "Input limits"): a report of the world's
reporter, the lead's bearer headers, a signed-in admin, and :func:`nothing_written` /
:func:`named`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.outbox import OutboxMessage
from incidents.models import (
    Attachment,
    Incident,
    IncidentEvent,
    IncidentObservable,
    IncidentTask,
)
from tests.kit.api import bearer, envelope
from tests.kit.factories import report
from tests.kit.world import World

API = "/api/v1/incidents"
TABLES = (Incident, IncidentEvent, IncidentObservable, IncidentTask, Attachment, AuditEntry)


def counts(session: Session) -> dict[str, int]:
    """Rows of every table a request could write to."""
    tables: tuple[Any, ...] = (*TABLES, OutboxMessage)
    return {
        t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in tables
    }


@pytest.fixture
def ref(db_session: Session, clock: FrozenClock, world: World) -> str:
    return report(db_session, clock, world.reporter).reference


@pytest.fixture
def lead_headers(lead_token: str) -> dict[str, str]:
    return bearer(lead_token)


@pytest.fixture
def admin(client: FlaskClient, world: World) -> FlaskClient:
    """``client``, signed in as the world's admin."""
    return world.sign_in(client, world.admin)


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


# make test: the first KEEP hostile values of each parametrised test on each backend; make proof
# (marker ``proof``): every other value
KEEP = 4


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    seen: dict[tuple[Any, ...], int] = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or here not in item.path.parents:
            continue
        backend = "postgresql" if "postgresql" in map(str, callspec.params.values()) else "sqlite"
        key = (item.path, getattr(item, "originalname", item.name), backend)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > KEEP:
            item.add_marker(pytest.mark.proof)
