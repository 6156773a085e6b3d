"""POST /api/v1/incidents under pressure: the per-token rate limit, an unreachable database and
a database failure half-way through a submission (503, nothing written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cert.app import create_app
from core.clock import FrozenClock
from core.identity.models import Organisation
from core.outbox import OutboxMessage
from core.web import RETRY_AFTER_SECONDS
from incidents.models import IdempotencyKey, ReferenceCounter
from tests.dbs import TestDatabase
from tests.kit.api import (
    PHISHING,
    URL,
    api_user,
    bearer,
    envelope,
    incident_count,
    submit,
)


# ---------------------------------------------------------------- rate limit
def test_submissions_are_rate_limited_per_token(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    reporter_token: str,
) -> None:
    for _ in range(60):  # invalid bodies count too: the limit is checked before the body
        assert submit(client, reporter_token, {}).status_code == 422
    response = submit(client, reporter_token)
    envelope(response, 429, "too_many_requests")
    assert "Retry-After" in response.headers
    colleague = api_user(db_session, clock, interieur)[1]
    assert submit(client, colleague).status_code == 201  # another token, another budget
    assert (
        client.get(URL, headers=bearer(reporter_token)).status_code == 200
    )  # reads are not limited


# ---------------------------------------------------------------- database unavailable
@pytest.fixture
def unreachable_url(database: TestDatabase, tmp_path: Path) -> str:
    if database.backend == "sqlite":
        return f"sqlite:///{tmp_path}/no/such/directory/vigie.db"
    return "postgresql+psycopg://vigie@127.0.0.1:1/vigie?connect_timeout=2"


def test_an_unreachable_database_is_503(
    settings: dict[str, Any], clock: FrozenClock, unreachable_url: str
) -> None:
    app = create_app({**settings, "database_url": unreachable_url}, clock=clock)
    client = app.test_client()
    for response in (
        client.post(URL, json=PHISHING, headers=bearer("vig_anything")),
        client.get(URL, headers=bearer("vig_anything")),
    ):
        envelope(response, 503, "database_unavailable")
        assert response.headers["Retry-After"]


class FailingInsert:
    """Makes the database "go away" when the acknowledgement e-mail (the last write) is inserted."""

    def __init__(self) -> None:
        self.active = True
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)
        if self.active and statement.lstrip().upper().startswith("INSERT INTO OUTBOX_MESSAGES"):
            raise OperationalError(statement, {}, ConnectionError("server closed the connection"))


@pytest.fixture
def failing_insert(connection: Connection) -> Iterator[FailingInsert]:
    listener = FailingInsert()
    event.listen(connection, "before_cursor_execute", listener)
    yield listener
    event.remove(connection, "before_cursor_execute", listener)


def test_a_database_failure_half_way_is_503_and_writes_nothing(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    reporter_token: str,
    failing_insert: FailingInsert,
) -> None:
    response = submit(client, reporter_token, **{"Idempotency-Key": "k-503"})
    envelope(response, 503, "database_unavailable")
    # its own back-off, not the rate limiter's window (the route is rate-limited)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert any(s.startswith("INSERT INTO incidents") for s in failing_insert.statements)
    assert incident_count(db_session) == 0
    assert db_session.scalars(select(ReferenceCounter)).all() == []
    assert db_session.scalars(select(IdempotencyKey)).all() == []
    assert db_session.scalars(select(OutboxMessage)).all() == []
    failing_insert.active = False  # the database is back: the retry gets the first number
    retry = submit(client, reporter_token, **{"Idempotency-Key": "k-503"})
    assert retry.status_code == 201
    assert retry.get_json()["reference"] == f"MACERT-{clock.now().year}-000001"
