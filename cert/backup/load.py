"""Writing an archive's rows (inside the caller's transaction): every table emptied, then loaded
in the archive's (foreign-key) order in batches; self-references set once their rows exist;
PostgreSQL's sequences moved past the largest id; SQLite's full-text index rebuilt."""

from __future__ import annotations

import tarfile
from typing import Any

from sqlalchemy import JSON, Column, Connection, MetaData, Table, bindparam, inspect, text

from cert.backup import BackupError
from cert.backup.archive import Manifest, TableEntry
from cert.backup.codec import generic_type
from cert.backup.rows import members_of, read_rows
from cert.backup.tables import SEARCH_PREFIX, dumped_tables, self_references

WRITE_BATCH = 1000


def load_tables(
    conn: Connection, archive: tarfile.TarFile, manifest: Manifest, metadata: MetaData
) -> dict[str, int]:
    present = set(inspect(conn).get_table_names())
    for entry in manifest.tables:
        if entry.name not in present:
            raise BackupError(
                f"table {entry.name} of the archive is not in the database at revision "
                f"{manifest.revision}"
            )
    names = [t.name for t in dumped_tables(metadata) if t.name in present]
    names += [e.name for e in manifest.tables if e.name not in names]
    _empty(conn, names)
    wanted = {e.member: e for e in manifest.tables}
    counts: dict[str, int] = {}
    for member, entry in members_of(archive, wanted):
        counts[entry.name] = _load(conn, archive, member, entry, metadata)
    for entry in manifest.tables:
        if counts.get(entry.name) != entry.rows:
            raise BackupError(
                f"table {entry.name}: {counts.get(entry.name, 0)} rows read, the manifest says "
                f"{entry.rows}"
            )
    _sequences(conn, manifest.tables, metadata)
    _search_index(conn)
    return counts


def _empty(conn: Connection, names: list[str]) -> None:
    """Every row out, in this transaction (the migrations' seed rows too: the archive has them).
    PostgreSQL: TRUNCATE, which fires no row trigger (the audit log refuses DELETE). SQLite: the
    audit log's DELETE guard is lifted for the statement and put back."""
    quoted = [conn.dialect.identifier_preparer.quote(n) for n in names]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"TRUNCATE {', '.join(quoted)} RESTART IDENTITY CASCADE")
        return
    guards = conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND upper(sql) LIKE '%BEFORE DELETE%'"
        )
    ).all()
    for name, _sql in guards:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table in reversed(quoted):
        conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - catalogue names
    for _name, sql in guards:
        conn.exec_driver_sql(sql)


def _writable(entry: TableEntry, metadata: MetaData) -> tuple[Table, list[str]]:
    """A table object for ``entry``'s columns, typed as the code declares them (a column the code
    no longer declares: by its kind); JSON columns keep SQL NULL apart from JSON null."""
    declared = metadata.tables.get(entry.name)
    columns = []
    for name, kind in entry.columns:
        column = declared.columns.get(name) if declared is not None else None
        if kind == "json" or column is None:
            kind_type = JSON(none_as_null=True) if kind == "json" else generic_type(kind)
        else:
            kind_type = column.type
        primary = column is not None and column.primary_key
        columns.append(Column(name, kind_type, primary_key=primary))
    table = Table(entry.name, MetaData(), *columns)
    refs = self_references(declared) if declared is not None else []
    return table, [r for r in refs if r in table.columns]


def _load(
    conn: Connection,
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    entry: TableEntry,
    metadata: MetaData,
) -> int:
    table, refs = _writable(entry, metadata)
    keys = [c.name for c in table.primary_key.columns]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    count = 0
    insert = table.insert()
    for row in read_rows(archive, member, entry):
        for ref in refs:
            if row[ref] is not None:
                later.append({"_v": row[ref], **{f"_k_{k}": row[k] for k in keys}, "_c": ref})
                row[ref] = None
        batch.append(row)
        count += 1
        if len(batch) >= WRITE_BATCH:
            conn.execute(insert, batch)
            batch = []
    if batch:
        conn.execute(insert, batch)
    for ref in refs:
        values = [
            {k: v for k, v in item.items() if k != "_c"} for item in later if item["_c"] == ref
        ]
        if not values:
            continue
        update = table.update().values({ref: bindparam("_v")})
        for key in keys:
            update = update.where(table.c[key] == bindparam(f"_k_{key}"))
        for start in range(0, len(values), WRITE_BATCH):
            conn.execute(update, values[start : start + WRITE_BATCH])
    return count


def _sequences(conn: Connection, entries: list[TableEntry], metadata: MetaData) -> None:
    """PostgreSQL: each table's id sequence goes on after its largest id (SQLite's ROWID and
    AUTOINCREMENT counters follow the rows inserted)."""
    if conn.dialect.name != "postgresql":
        return
    for entry in entries:
        declared = metadata.tables.get(entry.name)
        if declared is None or len(declared.primary_key.columns) != 1:
            continue
        key = next(iter(declared.primary_key.columns)).name
        sequence = conn.scalar(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{entry.name}"', "c": key}
        )
        if sequence:
            conn.execute(
                text(
                    f'SELECT setval(:s, coalesce((SELECT max("{key}") FROM "{entry.name}"), 1), '  # noqa: S608
                    f'(SELECT max("{key}") FROM "{entry.name}") IS NOT NULL)'  # noqa: S608
                ),
                {"s": sequence},
            )


def _search_index(conn: Connection) -> None:
    """SQLite: rebuild every FTS5 index from its content table (the triggers filled it row by
    row already; a rebuild makes it exactly the content). PostgreSQL's search is a GIN index on
    the incidents themselves, kept by the database."""
    if conn.dialect.name != "sqlite":
        return
    names = conn.scalars(
        text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE :p "
            "AND upper(sql) LIKE 'CREATE VIRTUAL TABLE%'"
        ),
        {"p": SEARCH_PREFIX + "%"},
    ).all()
    for name in names:
        conn.exec_driver_sql(f'INSERT INTO "{name}"("{name}") VALUES (\'rebuild\')')  # noqa: S608
