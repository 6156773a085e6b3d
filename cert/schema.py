"""Schema management (kernel): Alembic migrations driven programmatically.

``cert db upgrade`` and the test suite call :func:`upgrade`; nothing else creates tables.
"""

from __future__ import annotations

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
