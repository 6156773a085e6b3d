"""Which tables a backup holds, in which order, and which it leaves out (derived or Alembic's)."""

from __future__ import annotations

from sqlalchemy import Connection, MetaData, Table, inspect, select, text

# Tables the migrations themselves fill (a freshly migrated database has these rows): they do not
# make a database "non-empty", and a restore replaces their rows with the archive's.
SEEDED_BY_MIGRATIONS = frozenset({"centres", "incident_daily_zone"})

# What is in the database but not in the archive, and why (shown by `cert backup`).
SEARCH_PREFIX = "fts_"
LEFT_OUT = {
    "alembic_version": "the schema revision: recorded in the manifest; a restore migrates to it",
    "fts_*": "SQLite's full-text index (FTS5 tables and their shadow tables): rebuilt by the "
    "restore; on PostgreSQL the search index is a GIN index on the incidents themselves",
}


def dumped_tables(metadata: MetaData) -> list[Table]:
    """Every table the code declares (the schema Alembic owns), parents before children."""
    return [t for t in metadata.sorted_tables if not t.name.startswith(SEARCH_PREFIX)]


def self_references(table: Table) -> list[str]:
    """The columns of ``table`` that reference ``table`` itself (``incidents.duplicate_of_id``):
    loaded empty, then set once every row exists."""
    return sorted({fk.parent.name for fk in table.foreign_keys if fk.column.table is table})


def existing_tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def holds_data(conn: Connection, metadata: MetaData) -> list[str]:
    """The tables of ``metadata`` with rows, those the migrations fill left aside."""
    present = existing_tables(conn)
    found = []
    for table in dumped_tables(metadata):
        if table.name not in present or table.name in SEEDED_BY_MIGRATIONS:
            continue
        if conn.execute(select(text("1")).select_from(table).limit(1)).first():
            found.append(table.name)
    return found
