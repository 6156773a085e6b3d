"""The dashboard's daily aggregate (Flask-free): incidents counted per local day, vigilance
centre, organisation, RSIT class, priority and TLP:RED-or-not, with the sums the dashboard's
figures need, kept exact in the unit of work of every write (a transfer to another centre
moves the incident's contribution).

Why: computing each incident's measures and local day per request cost 400 ms (SQLite) and 200 ms
(PostgreSQL) for a 365-day dashboard at 100,000 incidents; reading ≈100 rows a day costs a few.

What a row holds (:class:`IncidentDaily`): ``incidents``, ``acknowledged`` and ``ack_ms`` (the sum
of received → acknowledged in milliseconds), ``resolved`` and ``resolve_ms`` (resolvable statuses
only), ``ack_met`` and ``resolve_met`` (done by the due date). What depends on the clock — an
acknowledgement or resolution not done yet but already past due, which counts as *decided* for
SLA compliance — is not stored: the dashboard reads it live from the few incidents not
acknowledged or not resolved (partial indexes), see :mod:`incidents.reporting.dashboard`.

How it stays exact (both databases):

* every ORM flush that inserts, deletes or changes a counted column of an :class:`Incident`
  (:data:`COUNTED`) adds the difference to the aggregate in the same transaction: before the
  flush, the incidents about to change are re-read from the database with ``SELECT … FOR UPDATE``
  (what is committed now, not what the session loaded earlier: on PostgreSQL a concurrent change
  committed in between is then counted once), after the flush they are read again; the rows'
  contributions before are subtracted and after added, with ``INSERT … ON CONFLICT DO UPDATE
  SET n = n + excluded.n`` (commutative, so concurrent writers never lose each other's counts;
  keys in sorted order, so two writers never wait on each other in a cycle);
* the single :class:`DailyZone` row names the time zone of the days; writers read it ``FOR
  SHARE`` and :func:`rebuild` takes it ``FOR UPDATE``: a rebuild waits for the writers in flight
  and the writers that follow wait for the rebuild. Its zone empty (a database migrated with
  incidents already in it): no maintenance, the dashboard computes from the incidents, until
  ``cert reporting rebuild`` builds it;
* bulk inserts that bypass the ORM (``cert demo --incidents``) call :func:`add_rows`;
* ``cert reporting rebuild`` (:func:`rebuild`) recomputes it from the incidents, e.g. after
  ``CERT_TIMEZONE`` changed — the dashboard reads it only when its zone is the configured one —
  and ``cert reporting rebuild --check`` (:func:`differences`) reports any drift.

Statements that change incidents without the ORM (``update(Incident)``) would bypass it: the
code has none, and ``tests/incidents/reporting/test_daily.py`` compares the aggregate with the
incidents after random mixes of writes on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    String,
    delete,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from incidents.models import Incident, IncidentStatus

RED = "TLP:RED"
NO_RESOLUTION = frozenset({IncidentStatus.REJECTED.value, IncidentStatus.DUPLICATE.value})
COUNTED = (
    "received_at", "organisation_id", "centre_id", "category", "priority", "tlp", "status",
    "acknowledged_at", "resolved_at", "ack_due_at", "resolve_due_at",
)  # fmt: skip
SUMS = ("incidents", "acknowledged", "ack_ms", "resolved", "resolve_ms", "ack_met", "resolve_met")
KEYS = ("month", "start", "centre_id", "organisation_id", "priority", "red")
CLASS_KEYS = ("day", "centre_id", "category", "red")
_PENDING = "incidents.daily.before"  # session.info: contributions read before the flush


class IncidentDaily(Base):
    """Sums over the incidents received on one local day (``month`` false, ``start`` the day)
    or one local month (``month`` true, ``start`` its first day), per organisation, priority
    and TLP:RED-or-not: a period reads its whole months' rows and its other days' rows."""

    __tablename__ = "incident_daily"
    __table_args__ = {"sqlite_with_rowid": False}  # SQLite: rows stored in key order

    month: Mapped[bool] = mapped_column(primary_key=True)
    start: Mapped[dt.date] = mapped_column(primary_key=True)
    # the vigilance centre of the incidents (a centre's dashboard reads its rows; migration 0038)
    centre_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    priority: Mapped[str] = mapped_column(String(2), primary_key=True)
    red: Mapped[bool] = mapped_column(primary_key=True)  # TLP:RED (analysts see few of them)
    incidents: Mapped[int] = mapped_column(default=0)
    acknowledged: Mapped[int] = mapped_column(default=0)
    ack_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    resolve_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    ack_met: Mapped[int] = mapped_column(default=0)
    resolve_met: Mapped[int] = mapped_column(default=0)


class IncidentDailyClass(Base):
    """Incidents received per local day and RSIT class (the chart over time, CERT staff)."""

    __tablename__ = "incident_daily_classes"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    red: Mapped[bool] = mapped_column(primary_key=True)
    incidents: Mapped[int] = mapped_column(default=0)


class DailyZone(Base):
    """One row: the time zone of the aggregate's days (``None``: not built)."""

    __tablename__ = "incident_daily_zone"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    zone: Mapped[str | None] = mapped_column(String(64))


# (table, key): the key's values in the order of KEYS or CLASS_KEYS
Key = tuple[str, tuple[Any, ...]]
Sums = list[int]
FIGURES, CLASSES = "incident_daily", "incident_daily_classes"


# ---------------------------------------------------------------- one incident's contribution
def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _ms(later: dt.datetime, earlier: dt.datetime) -> int:
    return round((_utc(later) - _utc(earlier)).total_seconds() * 1000)


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


def contribution(row: Mapping[Any, Any], zone: ZoneInfo) -> list[tuple[Key, Sums]]:
    """What one incident adds: its sums (:data:`SUMS`, the same definitions as
    :func:`incidents.reporting.measures.measures`) to its day's and its month's rows, and one
    to its day's class row."""
    received, acked, resolved = row["received_at"], row["acknowledged_at"], row["resolved_at"]
    resolvable = _text(row["status"]) not in NO_RESOLUTION
    done = resolvable and resolved is not None
    day = _utc(received).astimezone(zone).date()
    org, priority = int(row["organisation_id"]), _text(row["priority"])
    centre = int(row["centre_id"])
    red = _text(row["tlp"]) == RED
    sums = [
        1,
        int(acked is not None),
        _ms(acked, received) if acked is not None else 0,
        int(done),
        _ms(resolved, received) if done else 0,
        int(acked is not None and _utc(acked) <= _utc(row["ack_due_at"])),
        int(done and _utc(resolved) <= _utc(row["resolve_due_at"])),
    ]
    return [
        ((FIGURES, (False, day, centre, org, priority, red)), sums),
        ((FIGURES, (True, day.replace(day=1), centre, org, priority, red)), sums),
        ((CLASSES, (day, centre, str(row["category"]), red)), [1]),
    ]


def totals(rows: Iterable[Mapping[Any, Any]], zone: ZoneInfo, sign: int = 1) -> dict[Key, Sums]:
    found: dict[Key, Sums] = {}
    for row in rows:
        for key, sums in contribution(row, zone):
            _add(found, key, sums, sign)
    return found


def _add(into: dict[Key, Sums], key: Key, sums: Sequence[int], sign: int = 1) -> None:
    current = into.setdefault(key, [0] * len(sums))
    for i, value in enumerate(sums):
        current[i] += sign * value


# ---------------------------------------------------------------- writing the sums
_TABLES: tuple[tuple[str, Any, tuple[str, ...], tuple[str, ...]], ...] = (
    (FIGURES, IncidentDaily.__table__, KEYS, SUMS),
    (CLASSES, IncidentDailyClass.__table__, CLASS_KEYS, ("incidents",)),
)


def _columns() -> list[Any]:
    return [Incident.__table__.c[name] for name in COUNTED]


def read_rows(conn: Connection, ids: Sequence[int], *, lock: bool) -> list[Mapping[Any, Any]]:
    """The counted columns of incidents ``ids`` (``FOR UPDATE`` when ``lock``)."""
    found: list[Mapping[Any, Any]] = []
    for start in range(0, len(ids), 500):
        query = select(*_columns()).where(Incident.__table__.c.id.in_(ids[start : start + 500]))
        if lock:
            query = query.order_by(Incident.__table__.c.id).with_for_update()
        found += [row._mapping for row in conn.execute(query)]
    return found


def apply(conn: Connection, deltas: Mapping[Key, Sums]) -> None:
    """Add ``deltas`` to the aggregate (upserts in key order; nothing for all-zero deltas)."""
    for name, table, keys, sums in _TABLES:
        rows = [
            dict(zip(keys, key, strict=True)) | dict(zip(sums, values, strict=True))
            for (key_table, key), values in sorted(deltas.items())
            if key_table == name and any(values)
        ]
        if not rows:
            continue
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite  # dialect-specific
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={column: table.c[column] + statement.excluded[column] for column in sums},
        )
        conn.execute(statement, rows)


def zone_of(conn: Connection, *, share: bool = False) -> str | None:
    """The aggregate's time zone, ``None`` when not built (``FOR SHARE`` when ``share``)."""
    query = select(DailyZone.zone).where(DailyZone.id == 1)
    if share:
        query = query.with_for_update(read=True)
    return conn.scalar(query) or None


def add_rows(session: Session, rows: Iterable[Mapping[Any, Any]]) -> None:
    """Count incidents inserted without the ORM (mappings of at least :data:`COUNTED`)."""
    conn = session.connection()
    zone = zone_of(conn, share=True)
    if zone is not None:
        apply(conn, totals(rows, ZoneInfo(zone)))


# ---------------------------------------------------------------- the unit of work's hooks
def _counted_change(incident: Incident) -> bool:
    attrs = inspect(incident).attrs
    return any(attrs[name].history.has_changes() for name in COUNTED)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    session.info.pop(_PENDING, None)
    new = [o for o in session.new if isinstance(o, Incident)]
    changed = [
        o
        for o in (*session.dirty, *session.deleted)
        if isinstance(o, Incident) and o.id is not None
        and (o in session.deleted or _counted_change(o))
    ]  # fmt: skip
    if not new and not changed:
        return
    conn = session.connection()
    zone = zone_of(conn, share=True)
    if zone is None:
        return
    ids = sorted({o.id for o in changed})
    before = read_rows(conn, ids, lock=True) if ids else []
    session.info[_PENDING] = (zone, ids, new, before)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    zone, ids, new, before = pending
    conn = session.connection()
    every = sorted({*ids, *(o.id for o in new if o.id is not None)})
    after = read_rows(conn, every, lock=False)
    where = ZoneInfo(zone)
    deltas = totals(after, where)
    for key, sums in totals(before, where, sign=-1).items():
        _add(deltas, key, sums)
    apply(conn, deltas)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- rebuild and check
def _lock_zone(conn: Connection) -> None:
    conn.execute(select(DailyZone.id).where(DailyZone.id == 1).with_for_update())


def from_incidents(conn: Connection, zone: str) -> dict[Key, Sums]:
    """The aggregate as the incidents say it should be."""
    return totals((row._mapping for row in conn.execute(select(*_columns()))), ZoneInfo(zone))


def stored(conn: Connection) -> dict[Key, Sums]:
    """The aggregate's rows (all-zero rows left out)."""
    found: dict[Key, Sums] = {}
    for name, table, keys, sums in _TABLES:
        query = select(*(table.c[k] for k in keys), *(table.c[s] for s in sums))
        for row in conn.execute(query):
            values = [int(v) for v in row[len(keys) :]]
            if any(values):
                found[(name, tuple(_normal(v) for v in row[: len(keys)]))] = values
    return found


def _normal(value: Any) -> Any:
    """Key values as :func:`contribution` makes them (SQLite gives dates as text, booleans as
    integers; the centre and organisation ids are the only integers of a key)."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return dt.date.fromisoformat(value)
    return value


def differences(session: Session, zone: str) -> int:
    """How many keys differ between the aggregate and the incidents (0: exact); also when the
    aggregate was built for another zone (every key then)."""
    conn = session.connection()
    expected = from_incidents(conn, zone)
    if zone_of(conn) != zone:
        return max(len(expected), 1)
    found = stored(conn)
    return sum(1 for key in {*expected, *found} if expected.get(key) != found.get(key))


def rebuild(session: Session, zone: str) -> int:
    """Recompute the aggregate from the incidents for ``zone`` (waits for writers in flight,
    holds the next ones until commit); the number of rows written."""
    conn = session.connection()
    _lock_zone(conn)
    conn.execute(delete(IncidentDaily))
    conn.execute(delete(IncidentDailyClass))
    sums = from_incidents(conn, zone)
    apply(conn, sums)
    if conn.execute(update(DailyZone).where(DailyZone.id == 1).values(zone=zone)).rowcount == 0:
        conn.execute(insert(DailyZone).values(id=1, zone=zone))
    return len(sums)
