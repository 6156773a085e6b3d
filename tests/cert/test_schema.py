from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from cert import schema
from core.audit import AuditEntry
from core.db import Base
from tests.dbs import TestDatabase


def test_migrations_create_every_model_table_and_match_the_models(
    fresh_database: TestDatabase,
) -> None:
    tables = set(inspect(fresh_database.engine).get_table_names())
    assert {
        "organisations",
        "users",
        "api_tokens",
        "audit_log",
        "outbox_messages",
        "job_runs",
        "apscheduler_jobs",
    } <= tables
    assert schema.current_revision(fresh_database.engine) == schema.head_revision()
    with fresh_database.engine.connect() as conn:
        # fails when a model changed without a migration
        command.check(schema.alembic_config(connection=conn))


def test_downgrade_to_base_and_upgrade_again(fresh_database: TestDatabase) -> None:
    schema.downgrade(fresh_database.engine, "base")
    assert "users" not in inspect(fresh_database.engine).get_table_names()
    schema.upgrade(fresh_database.engine)
    assert "users" in inspect(fresh_database.engine).get_table_names()


def test_audit_log_refuses_update_and_delete(fresh_database: TestDatabase) -> None:
    with fresh_database.engine.begin() as conn:
        conn.execute(
            AuditEntry.__table__.insert().values(
                at=dt.datetime.now(dt.UTC),
                actor_label="test",
                action="x.y",
                object_type="x",
                object_id="1",
            )
        )
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), fresh_database.engine.begin() as conn:
            conn.execute(text(statement))
    with fresh_database.engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_log")).scalar_one() == "x.y"


def test_postgresql_index_includes_match_the_models(fresh_database: TestDatabase) -> None:
    """``alembic check`` does not compare ``INCLUDE`` columns: the migrations must still create
    the ones the models declare (``postgresql_include``), or counts stop being index-only."""
    if fresh_database.engine.dialect.name != "postgresql":
        pytest.skip("INCLUDE is PostgreSQL's")
    declared = {
        index.name: list(index.dialect_options["postgresql"]["include"] or [])
        for table in Base.metadata.tables.values()
        for index in table.indexes
    }
    inspector = inspect(fresh_database.engine)
    found = {
        index["name"]: list(index.get("dialect_options", {}).get("postgresql_include") or [])
        for table in Base.metadata.tables
        for index in inspector.get_indexes(table)
    }
    assert declared["ix_incidents_status_received"] == ["id"]
    assert {name: found[name] for name in declared} == declared
