"""Alembic environment: Vigie's models, on the connection or URL handed over by ``cert.schema``."""

from __future__ import annotations

from alembic import context

from cert.schema import KERNEL_MODELS
from cert.slices_list import SLICES
from core.db import Base, make_engine

# every table: the kernel's and the slices' (imported, so declared in Base.metadata)
MODEL_MODULES = (*KERNEL_MODELS, *(module for slice_ in SLICES for module in slice_.models))
target_metadata = Base.metadata
config = context.config
# Full-text search objects (FTS5 tables and their shadow tables, GIN/trigram indexes) are raw SQL
# of migration 0004, all named "fts_…", and PostgreSQL's expression indexes ("ix_expr_…", e.g.
# migration 0042's), and the stored search document of migration 0043 (column "fts_document"): the
# ORM cannot describe them, so comparisons skip them.
RAW_OBJECTS = ("fts_", "ix_expr_")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ in ("table", "index", "column") and (name or "").startswith(RAW_OBJECTS))


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
