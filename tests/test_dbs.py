"""The suite's blank databases (``tests.dbs``): a database handed to a test is empty and as
migrated, whether it is a copy of the run's SQLite template or a PostgreSQL schema emptied after
an earlier test — and a schema that a test changed is dropped, never handed out again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, text

from cert import schema
from core.audit import AuditEntry
from core.identity.models import Organisation
from tests.dbs import TestDatabase, create_database


def _write_rows(db: TestDatabase) -> None:
    now = dt.datetime.now(dt.UTC)
    with db.engine.begin() as conn:
        conn.execute(
            insert(Organisation).values(
                slug="min-x",
                name="Ministère X",
                kind="ministry",
                contact_emails=[],
                created_at=now,
                updated_at=now,
            )  # fmt: skip
        )
        conn.execute(
            insert(AuditEntry).values(  # append-only: no DELETE through SQL
                at=now, actor_label="t", action="x.y", object_type="x", object_id="1"
            )
        )


def _assert_blank(db: TestDatabase) -> None:
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM organisations")) == 0
        assert conn.scalar(text("SELECT count(*) FROM audit_log")) == 0
    assert schema.current_revision(db.engine) == schema.head_revision()
    _write_rows(db)  # ids start again at 1
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT id FROM organisations")) == 1
        assert conn.scalar(text("SELECT id FROM audit_log")) == 1


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_databases_given_back_come_again_empty_and_as_migrated(
    backend: str, tmp_path: Path
) -> None:
    used = [create_database(backend, tmp_path) for _ in range(2)]  # one at least newly migrated
    for db in used:
        _write_rows(db)
        db.drop()
    again = [create_database(backend, tmp_path) for _ in range(2)]
    try:
        if backend == "postgresql":  # the same schemas, emptied
            assert {db.pg_schema for db in again} == {db.pg_schema for db in used}
        else:  # copies of the template of their own
            assert not {db.url for db in again} & {db.url for db in used}
        for db in again:
            _assert_blank(db)
    finally:
        for db in again:
            db.drop()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE organisations ADD COLUMN motto TEXT",  # no migration made it
        "UPDATE alembic_version SET version_num = 'elsewhere'",  # a migration's row
    ],
)
def test_a_schema_a_test_changed_is_dropped_not_handed_out_again(
    change: str, tmp_path: Path
) -> None:
    changed = create_database("postgresql", tmp_path)
    with changed.engine.begin() as conn:
        conn.execute(text(change))
    changed.drop()
    fresh = create_database("postgresql", tmp_path)
    try:
        assert fresh.pg_schema != changed.pg_schema
        with fresh.engine.connect() as conn:
            assert not conn.scalar(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :name"),
                {"name": changed.pg_schema},
            )
        assert "motto" not in {
            c["name"] for c in inspect(fresh.engine).get_columns("organisations")
        }
        _assert_blank(fresh)
    finally:
        fresh.drop()
