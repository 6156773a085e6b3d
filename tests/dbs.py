"""Test databases: a migrated SQLite file or PostgreSQL schema, created and dropped by the suite.

Each PostgreSQL database lives in its own schema (``search_path`` set through the URL), so that
test runs never see each other's rows, even when two run at once against the same server.

Migrating costs seconds (~30 revisions, 65 tables: 1–3 s a database on 2 shared cores) and ~280
tests ask for a database of their own, so the migration runs once per backend and run:

* SQLite: the first migrated file is the run's template; each new database is a copy of it, byte
  for byte what the migrations wrote.
* PostgreSQL: a dropped schema is emptied and handed to the next test instead of being dropped
  (``DELETE`` of every table's rows, sequences back to their start), but only if it is still what
  the migrations made: the same tables, columns, indexes, constraints, defaults, triggers and
  functions (a catalogue fingerprint) and the same rows in the tables the migrations fill (their
  checksum). Anything else — a downgrade that did not come back the same, a lock still held, a
  role that may not switch triggers off — drops the schema as before.

Measured on the shared 2 cores (74 tests of test_events, test_mail, test_mail_templates and
test_uow): 48.4 s → 9.1 s, set-up 38.8 s → 1.1 s. ``tests/test_dbs.py`` shows that a database
handed out again is empty and as migrated, and that a changed schema is never handed out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

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
    migrated: bool = True

    __test__ = False  # not a test class

    def drop(self) -> None:
        self.engine.dispose()
        if self.pg_schema:
            if self.migrated and _blanks.take_back(self.url, self.pg_schema):
                return
            _drop_schema(self.pg_schema)


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
        path = directory / f"vigie-{uuid.uuid4().hex[:8]}.db"
        if migrate:
            shutil.copyfile(_blanks.sqlite_template(), path)
        url = f"sqlite:///{path}"
        return TestDatabase("sqlite", url, make_engine(url), migrated=migrate)
    postgres_or_skip()
    name = _blanks.spare_schema() if migrate else None
    if name is None:
        name = f"vigie_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE SCHEMA "{name}"')
        if migrate:
            engine = make_engine(_schema_url(name), poolclass=NullPool)
            try:
                schema.upgrade(engine)
                _blanks.learn(engine)
            finally:
                engine.dispose()
    url = _schema_url(name)
    return TestDatabase("postgresql", url, make_engine(url), pg_schema=name, migrated=migrate)


def release_blank_databases() -> None:
    """End of run: drop the spare schemas and the SQLite template (run by the root conftest)."""
    _blanks.close()


# ---------------------------------------------------------------- migrated once per run
# The catalogue of the current schema, one text per object, without the schema's name (index and
# trigger definitions name it); an emptied schema is handed out again only when this is what it
# was right after the migrations.
FINGERPRINT = """
SELECT md5(string_agg(replace(item, current_schema() || '.', ''), E'\\n' ORDER BY item)) FROM (
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(string_agg(
      a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
      || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum), '') AS item
    FROM pg_class c
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE c.relnamespace = current_schema()::regnamespace
    GROUP BY c.relname, c.relkind
  UNION ALL SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = current_schema()::regnamespace
  UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
  UNION ALL SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
  UNION ALL SELECT 'function ' || p.proname || ' ' || md5(p.prosrc) FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace
) catalogue
"""
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
# the sequences of the tables emptied (a seeded table's, e.g. centres', goes on from its rows)
RESTART_SEQUENCES = """
SELECT setval(c.oid, s.seqstart, false) FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE c.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:emptied)
"""


@dataclass
class _Migrated:
    """What a freshly migrated PostgreSQL schema looks like."""

    fingerprint: str
    emptied: list[str]  # the tables the migrations leave empty: a test's rows, deleted after it
    seeded: list[str]  # the tables the migrations fill (alembic_version, reference rows)
    seed_checksum: str


class _Blanks:
    """The run's SQLite template and its spare PostgreSQL schemas."""

    def __init__(self) -> None:
        self._directory: Path | None = None
        self._sqlite: Path | None = None
        self._migrated: _Migrated | None = None
        self._spare: list[str] = []

    def sqlite_template(self) -> Path:
        if self._sqlite is None:
            self._directory = Path(tempfile.mkdtemp(prefix="vigie-template-"))
            path = self._directory / "migrated.db"
            engine = make_engine(f"sqlite:///{path}")
            schema.upgrade(engine)
            engine.dispose()  # the last connection closed: the WAL is checkpointed and removed
            assert not path.with_name(path.name + "-wal").exists()
            self._sqlite = path
        return self._sqlite

    def spare_schema(self) -> str | None:
        return self._spare.pop() if self._spare else None

    def learn(self, engine: Engine) -> None:
        """Record what the migrations made (once per run, on the first migrated schema)."""
        if self._migrated is not None:
            return
        with engine.connect() as conn:
            tables = list(conn.scalars(text(TABLES)))
            exists = 'SELECT EXISTS (SELECT FROM "{}")'  # table names from the catalogue
            seeded = [t for t in tables if conn.scalar(text(exists.format(t)))]
            self._migrated = _Migrated(
                fingerprint=conn.scalar(text(FINGERPRINT)) or "",
                emptied=[t for t in tables if t not in seeded],
                seeded=seeded,
                seed_checksum=_checksum(conn, seeded),
            )

    def take_back(self, url: str, name: str) -> bool:
        """Empty schema ``name`` for the next test, if it is still as migrated; False if not."""
        migrated = self._migrated
        if migrated is None:
            return False
        engine = make_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                if conn.scalar(text(FINGERPRINT)) != migrated.fingerprint:
                    return False
                if _checksum(conn, migrated.seeded) != migrated.seed_checksum:
                    return False
                # no trigger (audit_log is append-only) and no foreign key check while emptying
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.exec_driver_sql(" ".join(f'DELETE FROM "{t}";' for t in migrated.emptied))  # noqa: S608 - catalogue names
                conn.execute(text(RESTART_SEQUENCES), {"emptied": migrated.emptied}).all()
        except Exception:  # not ours to empty (locks, rights): dropped as before
            return False
        finally:
            engine.dispose()
        self._spare.append(name)
        return True

    def close(self) -> None:
        while self._spare:
            _drop_schema(self._spare.pop())
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = self._sqlite = None


def _checksum(conn: Connection, tables: list[str]) -> str:
    parts = [
        f"(SELECT coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '') FROM \"{t}\" r)"  # noqa: S608
        for t in tables  # names from the catalogue
    ]
    return str(conn.scalar(text("SELECT " + " || ".join(parts)))) if parts else ""


def _schema_url(name: str) -> str:
    return (
        make_url(POSTGRES_URL)
        .update_query_dict({"options": f"-csearch_path={name}"})
        .render_as_string(hide_password=False)
    )


def _admin(statement: str) -> None:
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(statement))
    admin.dispose()


def _drop_schema(name: str) -> None:
    _admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


_blanks = _Blanks()
