"""Bulk INSERT through the database driver, below SQLAlchemy's per-row type processing
(Flask-free; dialect-specific by design — SQLite and PostgreSQL, the two Vigie runs on).

:func:`feeds.index.store.store_records` writes up to hundreds of thousands of new rows in one
import. Through SQLAlchemy Core each parameter of each row goes through its type's bind
processor and each row through a dict: most of the store's time at 100,000 indicators
(``bench/ingest.py``). Here the caller builds plain tuples already in the driver's terms, with
:class:`Encoder` (text the column types would have written: JSON once through orjson,
timestamps in SQLAlchemy's own SQLite format), and :func:`insert_rows` hands them over in one
go — SQLite: the DBAPI ``executemany``; PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3).

New indicators need their ids for their values: :func:`next_ids` reserves them before the
INSERT, without reading the rows back — PostgreSQL: ``nextval`` of the table's sequence, in one
``generate_series`` query; SQLite: ``max(id)`` + 1 onwards (the transaction holds, or will take
before its INSERT, the database's single write lock: a concurrent writer makes the INSERT fail
— SQLITE_BUSY — never gives the same ids twice; an id taken anyway fails the primary key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

import orjson
from sqlalchemy import JSON, Table, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from core.db import StrEnumType, UtcDateTime

EMPTY_LIST = "[]"
_SQLITE_TIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class Encoder:
    """Column values as the driver takes them, the same as the column types would write."""

    def __init__(self, session: Session) -> None:
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    @staticmethod
    def json(value: Any) -> str:
        """JSON text (orjson: no spaces after separators, UTF-8 kept — same values on read;
        a tuple is an array, as the list the ORM would be given)."""
        if not value and isinstance(value, list | tuple):
            return EMPTY_LIST
        return orjson.dumps(value).decode()

    def time(self, value: dt.datetime | None) -> str | None:
        """``core.db.UtcDateTime``: aware only, in UTC. SQLite: its naive text with
        microseconds (``2026-12-04 12:00:00.000000``, SQLAlchemy's SQLite DATETIME format);
        PostgreSQL: ISO 8601 with ``+00:00``, which ``COPY`` reads into ``timestamptz`` (text
        goes through psycopg's COPY twice as fast as a ``datetime``)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not dt.UTC:
            value = value.astimezone(dt.UTC)
        if not self.sqlite:
            return value.isoformat()
        return _SQLITE_TIME % (
            value.year, value.month, value.day,
            value.hour, value.minute, value.second, value.microsecond,
        )  # fmt: skip

    @staticmethod
    def member(value: Enum | str) -> str:
        """A ``StrEnum`` member as its value (psycopg would dump an enum by its name)."""
        return value.value if isinstance(value, Enum) else value

    def rows(
        self, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]
    ) -> list[tuple[Any, ...]]:
        """Dict rows as driver tuples, each value encoded after its column's type."""
        encoders = [self._for(table.c[name].type) for name in columns]
        return [
            tuple(encode(row[name]) for encode, name in zip(encoders, columns, strict=True))
            for row in rows
        ]

    def _for(self, kind: TypeEngine[Any]) -> Callable[[Any], Any]:
        if isinstance(kind, JSON):
            return self.json
        if isinstance(kind, UtcDateTime):
            return self.time
        if isinstance(kind, StrEnumType):
            return lambda value: None if value is None else self.member(value)
        return _same


def _same(value: Any) -> Any:
    return value


def next_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` fresh ids for ``table`` (see the module's note), to INSERT explicitly."""
    if count == 0:
        return []
    name = table.name
    if session.get_bind().dialect.name == "sqlite":
        last = session.execute(text(f'SELECT max(id) FROM "{name}"')).scalar() or 0  # noqa: S608
        return list(range(last + 1, last + 1 + count))
    statement = text(
        f"SELECT array_agg(nextval(pg_get_serial_sequence('{name}', 'id'))) "  # noqa: S608
        "FROM generate_series(1, :count)"
    )  # one row: a list, not ``count`` rows to fetch one by one
    ids: list[int] = session.execute(statement, {"count": count}).scalar_one()
    return ids


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT ``rows`` (tuples in ``columns``' order, driver-ready: see :class:`Encoder`)."""
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608
            cursor.executemany(statement, rows)
        finally:
            cursor.close()
        return
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()
