"""Schema management (kernel): Alembic migrations driven programmatically.

``cert db upgrade`` and the test suite call :func:`upgrade`; nothing else creates tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from core import audit, jobs, outbox
from core.events import store as event_store
from core.identity import centres
from core.identity import models as auth_models

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The kernel's modules that declare tables; each slice names its own in its manifest
# (``Slice.models``), and Alembic's environment (migrations/env.py) loads both.
KERNEL_MODELS: tuple[ModuleType, ...] = (auth_models, centres, audit, outbox, jobs, event_store)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, lambda cfg: command.downgrade(cfg, revision))


def _migrate(engine: Engine, run: Callable[[AlembicConfig], None]) -> None:
    """Run migrations in one transaction. SQLite: with its foreign keys off, as SQLite's
    procedure for schema changes asks — batch mode rebuilds a table (new table, copy, ``DROP``,
    rename), and dropping a table that others reference would otherwise run their ``ON DELETE``
    actions (cascades) or fail; ``PRAGMA foreign_key_check`` then refuses to commit anything that
    would leave a dangling reference. The pragma only takes effect outside a transaction."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection if engine.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                run(alembic_config(connection=connection))
                if raw is not None:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if dangling:
                        raise RuntimeError(f"migration left dangling references: {dangling[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
