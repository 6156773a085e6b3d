"""Database kernel: declarative base, engines, sessions and transaction scopes (Flask-free).

SQLite (embedded default) runs in WAL mode with foreign keys on; PostgreSQL runs through psycopg 3.
Services only ``flush``; the caller (request, job, CLI command) owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Select,
    String,
    create_engine,
    event,
    func,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapper, QueryableAttribute, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Join
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


E = TypeVar("E", bound=enum.StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a plain ``VARCHAR(length)`` and loaded back as the
    member (``Mapped[IncidentStatus]`` then holds an ``IncidentStatus``, not a ``str``).

    Not ``sqlalchemy.Enum``: the schema stays a ``String(length)`` with no CHECK constraint or
    native type (Alembic compares the ``impl``, so no migration). Strings are bound as they are,
    so a filter on a value that is no member still finds nothing rather than failing; a stored
    value that is no member is a ``ValueError`` on load."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        self.length = length

    @property
    def python_type(self) -> type[E]:
        return self.enum_class

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum_class(value)

    def __repr__(self) -> str:
        return f"StrEnumType({self.enum_class.__name__}, length={self.length})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UtcDateTime()}


@event.listens_for(Base, "mapper_configured", propagate=True)
def _members_on_set(mapper: Mapper[Any], class_: type[Any]) -> None:
    """A string set on a :class:`StrEnumType` attribute (``Incident(tlp="TLP:AMBER")``) becomes
    the member at once, as a loaded row would be: the attribute never holds a bare ``str``."""
    for prop in mapper.column_attrs:
        kind = prop.columns[0].type
        if isinstance(kind, StrEnumType):
            event.listen(prop.class_attribute, "set", _to_member(kind.enum_class), retval=True)


def _to_member(enum_class: type[E]) -> Any:
    def convert(target: object, value: object, old: object, initiator: object) -> object:
        return enum_class(value) if isinstance(value, str) else value

    return convert


SessionFactory = sessionmaker[Session]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(
    url: str, *, wait_limits: tuple[float, float] | None = None, **kwargs: Any
) -> Engine:
    """Engine for ``url`` with Vigie's per-backend settings.

    ``wait_limits`` (PostgreSQL): seconds after which a statement stops waiting for a lock (row,
    table or advisory) and after which a statement is cancelled — ``lock_timeout`` and
    ``statement_timeout`` of each connection, set when it opens (no cost per request); the
    driver then raises ``LockNotAvailable`` / ``QueryCanceled``. The web application's engine
    has them; the CLI's and the scheduler's keep the server's settings (a bulk load must not be
    cancelled). SQLite's busy timeout already bounds the wait for its write lock.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; issue it ourselves so that
        # SELECT … then UPDATE in one transaction is serialised (BEGIN IMMEDIATE where asked).
        event.listen(engine, "connect", _sqlite_no_autobegin)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if wait_limits is not None:
        lock, statement = (max(1, round(seconds * 1000)) for seconds in wait_limits)
        given = parsed.query.get("options")  # e.g. -csearch_path=…: connect_args replace it
        options = [given] if isinstance(given, str) else list(given or ())
        options.append(f"-c lock_timeout={lock} -c statement_timeout={statement}")
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "options": " ".join(options)}
    return create_engine(url, **kwargs)


def _sqlite_no_autobegin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(bind=engine, expire_on_commit=False)


# SQLite planner statistics: a table's are refreshed once its row count has moved by this factor
# since ANALYZE counted it (or it has rows and none); smaller tables are left to the defaults.
STATISTICS_DRIFT = 2
STATISTICS_MIN_ROWS = 100


def stale_statistics(conn: Connection) -> list[str]:
    """SQLite: the tables whose ``sqlite_stat1`` rows no longer describe them — never analysed
    though they hold ``STATISTICS_MIN_ROWS`` rows or more, or grown or shrunk by
    ``STATISTICS_DRIFT`` since. Statistics taken on a nearly empty table and never refreshed
    describe a dozen rows when there are a hundred thousand, and the planner then prefers a
    full scan to an index; with no statistics at all it assumes large tables and uses indexes.
    One ``count(*)`` per table (its smallest index, read whole): 80 ms for all of them at
    30,000 incidents with a cold cache, 2 ms for the 60,000 observables once cached."""
    analysed: dict[str, int] = {}
    if conn.scalar(text("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'")):
        for table, stat in conn.execute(text("SELECT tbl, stat FROM sqlite_stat1")):
            head = (stat or "").split(" ", 1)[0]
            analysed[table] = max(analysed.get(table, 0), int(head) if head.isdigit() else 0)
    tables = conn.scalars(
        text(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
        )
    ).all()
    stale = []
    for table in tables:
        rows = conn.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0  # noqa: S608 - a name
        then = analysed.get(table, 0)
        if max(rows, then) < STATISTICS_MIN_ROWS:
            continue  # any plan is cheap on a small table
        if not then or rows >= then * STATISTICS_DRIFT or rows * STATISTICS_DRIFT <= then:
            stale.append(table)
    return stale


def refresh_statistics(conn: Connection) -> list[str]:
    """SQLite: ``ANALYZE`` each table of :func:`stale_statistics` (in the caller's transaction);
    their names."""
    stale = stale_statistics(conn)
    for table in stale:
        conn.exec_driver_sql(f'ANALYZE "{table}"')
    return stale


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


class unindexed(ColumnElement[Any]):  # noqa: N801 - used like a SQL function
    """``column`` in a condition that must not pick the index of a query (SQLite-specific).

    SQLite has no planner statistics unless ``ANALYZE`` ran, so it may prefer a wide index
    (e.g. organisation + date) over a selective one; ``+column`` (a no-op for SQLite) keeps that
    term from using an index. Other backends get the plain column.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: QueryableAttribute[Any] | ColumnElement[Any]) -> None:
        element = column.__clause_element__() if isinstance(column, QueryableAttribute) else column
        self.column = element
        self.type = element.type


@compiles(unindexed)
def _unindexed(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


class ids_first(ColumnElement[bool]):  # noqa: N801 - used like a SQL function
    """``column IN (ids)``, ``ids`` a subquery of few rows to compute before anything else.

    PostgreSQL-specific: ``column = ANY(ARRAY(ids))``, the ids computed once (an InitPlan) and
    each looked up through ``column``'s index — a condition the planner can also OR with others
    in one BitmapOr; with ``IN`` the planner, blind to how few the ids are, may hash-join them to
    a scan of the whole table. Other backends get the plain ``IN``.
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: QueryableAttribute[Any] | ColumnElement[Any], ids: Select[Any]):
        self.column = (
            column.__clause_element__() if isinstance(column, QueryableAttribute) else column
        )
        self.ids = ids


@compiles(ids_first)
def _ids_first(element: ids_first, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.ids), **kw)


@compiles(ids_first, "postgresql")
def _ids_first_postgresql(element: ids_first, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(
        element.column == func.any(func.array(element.ids.scalar_subquery())), **kw
    )


class outer_first(Join):  # noqa: N801 - used like a SQL function
    """``left JOIN right ON onclause`` with a plan fixed on SQLite whatever its statistics say:
    ``left`` is read first, through ``index`` when given (``left INDEXED BY index CROSS JOIN
    right``: SQLite's planner never reorders a ``CROSS JOIN``), then ``right`` for each of its
    rows. Other backends get the plain inner join."""

    inherit_cache = True
    _traverse_internals = [*Join._traverse_internals, ("index", InternalTraversal.dp_string)]

    def __init__(
        self, left: Any, right: Any, onclause: ColumnElement[bool], *, index: str | None = None
    ) -> None:
        super().__init__(left, right, onclause)
        self.index = index


@compiles(outer_first, "sqlite")
def _outer_first_sqlite(element: outer_first, compiler: SQLCompiler, **kw: Any) -> str:
    kw["asfrom"] = True
    left = element.left._compiler_dispatch(compiler, **kw)
    if element.index:
        left += f" INDEXED BY {compiler.preparer.quote(element.index)}"
    right = element.right._compiler_dispatch(compiler, **kw)
    if element.onclause is None:  # always given (__init__)
        raise ValueError("outer_first needs an ON clause")
    return f"{left} CROSS JOIN {right} ON {element.onclause._compiler_dispatch(compiler, **kw)}"
