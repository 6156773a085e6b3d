"""Schema management (kernel): Alembic migrations driven programmatically.

``cert db upgrade`` and the test suite call :func:`upgrade`; nothing else creates tables.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Every module that declares tables; domain packages append theirs as they gain models.
MODEL_MODULES = (
    "cert.auth.models",
    "cert.audit",
    "cert.outbox",
    "cert.jobs",
    "cert.events.store",
    "incidents.models",
    "incidents.queue.saved_filters",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
