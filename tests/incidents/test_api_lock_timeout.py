"""PostgreSQL lock waits and long statements of web requests are bounded
(``CERT_DB_LOCK_TIMEOUT_SECONDS``, ``CERT_DB_STATEMENT_TIMEOUT_SECONDS``): a request that meets a
locked table answers 503 with ``Retry-After`` and writes nothing, instead of hanging until
gunicorn kills the worker; once the lock is gone the same request succeeds.

PostgreSQL only: on SQLite the wait for the write lock is bounded by its busy timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cert.app import create_app
from core.clock import FrozenClock
from core.outbox import OutboxMessage
from core.web import RETRY_AFTER_SECONDS, get_session
from incidents.models import IdempotencyKey, Incident, ReferenceCounter
from tests.dbs import TestDatabase, create_database
from tests.kit.api import PHISHING, URL, bearer, committed_reporters, envelope
from tests.kit.config import SUITE_SETTINGS

HELD_FOR = 8.0  # seconds the table stays locked: far beyond the timeouts under test


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[TestDatabase]:
    db = create_database("postgresql", tmp_path)
    yield db
    db.drop()


class TableLock:
    """``LOCK TABLE … IN ACCESS EXCLUSIVE MODE`` held by another connection for ``HELD_FOR``
    seconds (or until :meth:`release`), as a long migration or a stuck transaction would."""

    def __init__(self, db: TestDatabase, table: str) -> None:
        self.conn = db.engine.connect()
        self.conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        self._released = threading.Event()
        self._timer = threading.Timer(HELD_FOR, self._released.set)
        self._timer.start()
        self._thread = threading.Thread(target=self._hold)
        self._thread.start()

    def _hold(self) -> None:
        self._released.wait()
        self.conn.rollback()
        self.conn.close()

    def release(self) -> None:
        self._timer.cancel()
        self._released.set()
        self._thread.join()


@pytest.fixture
def app_with(postgres: TestDatabase, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Builds the application on its own engine, as in production (the timeouts are that
    engine's); the engines are disposed of afterwards."""
    built: list[Flask] = []

    def build(clock: FrozenClock, **timeouts: float) -> Flask:
        config = {
            "testing": True,
            **SUITE_SETTINGS,
            "instance_dir": tmp_path / "instance",
            "upload_dir": tmp_path / "uploads",
            "database_url": postgres.url,
            "secret_key": "test-secret-key-" + "x" * 32,
            "mail_from": "Vigie <cert@example.test>",
            **timeouts,
        }
        built.append(create_app(config, clock=clock))
        return built[-1]

    yield build
    for app in built:
        app.extensions["vigie"].session_factory.kw["bind"].dispose()


@pytest.mark.parametrize(
    "timeouts",
    [
        {"db_lock_timeout_seconds": 1.0},  # the lock wait gives up (lock_timeout)
        {"db_lock_timeout_seconds": 60.0, "db_statement_timeout_seconds": 1.0},  # statement_timeout
    ],
    ids=["lock-timeout", "statement-timeout"],
)
def test_a_locked_table_is_503_with_retry_after_and_nothing_written(
    postgres: TestDatabase, app_with: Callable[..., Flask], timeouts: dict[str, float]
) -> None:
    clock = FrozenClock()
    client = app_with(clock, **timeouts).test_client()
    [secret] = committed_reporters(lambda: Session(postgres.engine), clock)
    headers = bearer(secret, **{"Idempotency-Key": "locked-out"})
    lock = TableLock(postgres, "incidents")
    try:
        started = time.monotonic()
        response = client.post(URL, json=PHISHING, headers=headers)
        waited = time.monotonic() - started
        envelope(response, 503, "database_unavailable")
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert waited < HELD_FOR - 2  # it gave up; it did not wait for the lock to go
        listed = client.get(URL, headers=headers)  # reads meet the same lock
        envelope(listed, 503, "database_unavailable")
    finally:
        lock.release()
    with Session(postgres.engine) as session:  # the transaction was rolled back as a whole
        for table in (Incident, ReferenceCounter, IdempotencyKey, OutboxMessage):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table
        # the timeouts are the web application's: other connections (CLI, scheduler) have none
        assert session.scalar(text("SHOW lock_timeout")) == "0"
        assert session.scalar(text("SHOW statement_timeout")) == "0"
    retry = client.post(URL, json=PHISHING, headers=headers)  # the lock is gone
    assert retry.status_code == 201, retry.get_data(as_text=True)
    assert retry.get_json()["reference"] == f"MACERT-{clock.now().year}-000001"


def test_web_requests_run_under_the_configured_timeouts(app_with: Callable[..., Flask]) -> None:
    """What the server applies to a web request (the defaults: 5 s and 30 s)."""
    app = app_with(FrozenClock())
    with app.test_request_context("/"):
        session = get_session()
        assert session.scalar(text("SHOW lock_timeout")) == "5s"
        assert session.scalar(text("SHOW statement_timeout")) == "30s"
        session.rollback()
