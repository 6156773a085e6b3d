"""Test databases: a migrated SQLite file or PostgreSQL schema, created and dropped by the suite.

Each PostgreSQL database lives in its own schema (``search_path`` set through the URL), so that
test runs never see each other's rows, even when two run at once against the same server.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from cert import schema
from core.db import make_engine

POSTGRES_URL = os.environ.get(
    "CERT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("CERT_REQUIRE_POSTGRES") == "1"
BACKENDS = ("sqlite", "postgresql")

_probe: dict[str, str] = {}  # POSTGRES_URL → "" when reachable, else why not


@dataclass
class TestDatabase:
    backend: str
    url: str  # self-contained URL (schema in the query string for PostgreSQL)
    engine: Engine
    pg_schema: str | None = None

    __test__ = False  # not a test class

    def drop(self) -> None:
        self.engine.dispose()
        if self.pg_schema:
            admin = make_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.pg_schema}" CASCADE'))
            admin.dispose()


def postgres_or_skip() -> None:
    """Skip (or fail, under CERT_REQUIRE_POSTGRES=1) when no PostgreSQL server answers."""
    if POSTGRES_URL not in _probe:
        engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            _probe[POSTGRES_URL] = ""
        except Exception as exc:  # any failure to connect means "no server"
            _probe[POSTGRES_URL] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        finally:
            engine.dispose()
    if _probe[POSTGRES_URL]:
        reason = f"PostgreSQL not reachable at {POSTGRES_URL} ({_probe[POSTGRES_URL]})"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{reason}; CERT_REQUIRE_POSTGRES=1 forbids skipping")
        pytest.skip(reason)


def create_database(backend: str, directory: Path, *, migrate: bool = True) -> TestDatabase:
    if backend == "sqlite":
        url = f"sqlite:///{directory / f'vigie-{uuid.uuid4().hex[:8]}.db'}"
        db = TestDatabase("sqlite", url, make_engine(url))
    else:
        postgres_or_skip()
        name = f"vigie_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        admin.dispose()
        url = (
            make_url(POSTGRES_URL)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
        db = TestDatabase("postgresql", url, make_engine(url), pg_schema=name)
    if migrate:
        schema.upgrade(db.engine)
    return db
