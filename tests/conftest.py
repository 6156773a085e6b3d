"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

* ``database`` (session, parametrised by backend): a migrated database for the whole run.
* ``db_session``: a session inside a transaction rolled back after the test; code under test may
  commit freely (SQLAlchemy's "join an external transaction" recipe).
* ``app`` / ``client``: the real application bound to that same transaction.
* ``fresh_database``: an empty migrated database of its own, for tests whose subprocesses or
  threads need committed data (a copy of the run's migrated SQLite file, or an emptied
  PostgreSQL schema still as migrated: ``tests.dbs``).
* ``world`` (:class:`tests.kit.world.World`) on ``db_session``, and the people and organisations
  of its cast as fixtures of their own: ``reporter``, ``analyst``, ``lead`` (users),
  ``interieur``, ``sante`` (organisations), and ``reporter_token``, ``analyst_token``,
  ``lead_token`` (the secrets of API tokens of theirs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core import logs
from core.clock import FrozenClock
from core.identity.models import Organisation, User
from tests.catalogues import compile_stale
from tests.dbs import BACKENDS, TestDatabase, create_database, release_blank_databases
from tests.kit.config import SUITE_SETTINGS
from tests.kit.hashing import use_cheap_hashing
from tests.kit.imap import ImapServer, imap_server
from tests.kit.oidc_provider import oidc_provider  # noqa: F401  (fixture for the OIDC tests)
from tests.kit.smtp import SmtpServer, smtp_server
from tests.kit.world import World


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """`make translations` for direct pytest runs: the UI and e-mails need the .mo files."""
    compile_stale()


@pytest.fixture(scope="session", autouse=True)
def blank_databases() -> Iterator[None]:
    """The run's migrated template (SQLite) and spare schemas (PostgreSQL), see ``tests.dbs``:
    set up first, so torn down after every database of the run was given back."""
    yield
    release_blank_databases()


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """The root logger as it was before the test: an application built by a test configures
    Vigie's log handler and level (core.logs), which must not reach the next tests (a library's
    INFO lines on standard error would then land in a command's captured output)."""
    root = logging.getLogger()
    # an application built earlier by a session-scoped fixture (the browser tests' live server)
    # left Vigie's handler on the root: dropped, so that no line lands in a command's output
    handlers = [h for h in root.handlers if h.get_name() != logs.HANDLER_NAME]
    level = root.level
    root.handlers[:] = handlers
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def cheap_password_hashing() -> None:
    """Argon2 at ``argon2.profiles.CHEAPEST``'s cost (testing only): signing in stays cheap.

    Per test: an application built from production settings configures production costs.
    """
    use_cheap_hashing()


@pytest.fixture(scope="session", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    db = create_database(request.param, tmp_path_factory.mktemp(request.param))
    yield db
    db.drop()


@pytest.fixture(params=BACKENDS)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    db = create_database(request.param, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def factory(fresh_database: TestDatabase) -> sessionmaker[Session]:
    """A session factory on a database of the test's own (threads, processes, commits)."""
    return sessionmaker(bind=fresh_database.engine, expire_on_commit=False)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A live SMTP server (aiosmtpd) on a free port, keeping what it receives."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def imap(tmp_path: Path) -> Iterator[ImapServer]:
    """A live IMAP server (pymap, in memory) on a free loopback port, plain text."""
    with imap_server(tmp_path) as server:
        yield server


@pytest.fixture
def imap_tls(tmp_path: Path) -> Iterator[ImapServer]:
    """The same with STARTTLS and a self-signed certificate for 127.0.0.1
    (``imap_tls.certificate.cert`` is the CA file that verifies it)."""
    with imap_server(tmp_path, tls=True) as server:
        yield server


@pytest.fixture
def connection(database: TestDatabase) -> Iterator[Connection]:
    conn = database.engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database: TestDatabase, tmp_path: Path) -> dict[str, Any]:
    return {
        "testing": True,
        "instance_dir": tmp_path / "instance",
        "upload_dir": tmp_path / "uploads",
        "database_url": database.url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "smtp_url": "smtp://127.0.0.1:2525",
        "mail_from": "Vigie <cert@example.test>",
        **SUITE_SETTINGS,
    }


@pytest.fixture
def app(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> Flask:
    return create_app(settings, session_factory=session_factory, clock=clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# ---------------------------------------------------------------- the world and its cast
@pytest.fixture
def world(db_session: Session, clock: FrozenClock) -> World:
    return World(db_session, clock)


@pytest.fixture
def interieur(world: World) -> Organisation:
    return world.interieur


@pytest.fixture
def sante(world: World) -> Organisation:
    return world.sante


@pytest.fixture
def reporter(world: World) -> User:
    return world.reporter


@pytest.fixture
def analyst(world: World) -> User:
    return world.analyst


@pytest.fixture
def lead(world: World) -> User:
    return world.lead


@pytest.fixture
def reporter_token(world: World, reporter: User) -> str:
    return world.token(reporter)


@pytest.fixture
def analyst_token(world: World, analyst: User) -> str:
    return world.token(analyst)


@pytest.fixture
def lead_token(world: World, lead: User) -> str:
    return world.token(lead)
