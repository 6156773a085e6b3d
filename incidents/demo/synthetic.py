"""Synthetic incidents in bulk for load and benchmark work (``cert demo --incidents N``).

Fast on purpose: no ``submit_incident`` per row. Rows are built in Python from a seeded random
generator (organisations, RSIT classes and types, statuses spread over the workflow, priority
from the matrix, SLA from the policy, received over the last two years, French titles and
descriptions with defanged indicators and two observables each), references are allocated as
one contiguous block per year by bumping ``incident_reference_counters`` once per year (gap-free
and safe against concurrent submissions: the counter row stays locked until commit), and rows
are inserted in batches with Core ``insert()`` executemany, or ``COPY`` on PostgreSQL.
No timeline events nor acknowledgements are written; one audit row records the run; the
dashboard's daily aggregate (:mod:`incidents.daily`) is added to.
The caller owns the transaction. Flask-free.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Integer, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import ValidationFailed
from core.identity.authz import Actor
from core.identity.centres import national_centre
from core.identity.models import CERT_ROLES, Organisation, OrganisationKind, Role, User
from incidents import daily
from incidents.actions import IncidentAction
from incidents.demo import synthetic_rows as rows
from incidents.intake.references import format_reference
from incidents.models import Incident, IncidentObservable
from incidents.settings import IntakeSettings

if TYPE_CHECKING:
    import psycopg

SPAN = dt.timedelta(days=730)

_BUMP = text(
    "INSERT INTO incident_reference_counters (year, last) VALUES (:year, :n) "
    "ON CONFLICT (year) DO UPDATE SET last = incident_reference_counters.last + :n "
    "RETURNING last"
).bindparams(bindparam("year", type_=Integer), bindparam("n", type_=Integer))


@dataclass(frozen=True)
class BulkResult:
    incidents: int
    observables: int
    references: dict[int, tuple[str, str]]  # year → (first, last)


def generate_incidents(
    session: Session,
    actor: Actor,
    count: int,
    *,
    clock: Clock,
    settings: IntakeSettings,
    seed: int = 2026,
    batch_size: int = 5000,
) -> BulkResult:
    """Insert ``count`` synthetic incidents (and 2 observables each) in the caller's transaction."""
    if count < 1:
        raise ValidationFailed("nothing to generate", fields={"incidents": "must be at least 1"})
    conn = session.connection()
    people = _people(session)
    existing = session.scalar(select(func.count()).select_from(Incident)) or 0
    rng = random.Random(f"{seed}:{existing}")  # noqa: S311 - synthetic data, not security
    now = clock.now()
    received = sorted(now - SPAN * rng.random() for _ in range(count))
    numbers = _allocate_references(conn, received)  # takes the write lock on SQLite
    ids = _reserve_ids(conn, count)
    factory = rows.RowFactory(rng, people, settings=settings, now=now)
    national = national_centre(session).id  # Core inserts bypass the column's default
    observables = 0
    for start in range(0, count, batch_size):
        stop = min(start + batch_size, count)
        batch = [
            {"centre_id": national}
            | factory.incident(ids[i], format_reference(settings.reference_prefix, *numbers[i]), t)
            for i, t in zip(range(start, stop), received[start:stop], strict=True)
        ]
        found = [o for row in batch for o in factory.observables_of(row)]
        _insert(conn, Incident, rows.INCIDENT_COLUMNS, batch)
        daily.add_rows(session, batch)  # Core inserts bypass the ORM's hook
        _insert(conn, IncidentObservable, rows.OBSERVABLE_COLUMNS, found)
        observables += len(found)
    result = BulkResult(count, observables, _ranges(settings.reference_prefix, numbers))
    audit.record(
        session,
        actor,
        IncidentAction.BULK_GENERATE,
        "incident",
        "*",
        clock=clock,
        after={"count": count, "seed": seed, "references": result.references},
    )
    return result


def _people(session: Session) -> rows.People:
    orgs = session.execute(
        select(Organisation.id, Organisation.slug).where(Organisation.kind != OrganisationKind.CERT)
    ).all()
    if not orgs:
        raise ValidationFailed(
            "no constituent organisation to report incidents",
            fields={"incidents": "create organisations first (cert demo does)"},
        )
    reporters: dict[int, list[int]] = {}
    staff: list[int] = []
    for user_id, org_id, role in session.execute(
        select(User.id, User.organisation_id, User.role).where(User.is_active.is_(True))
    ):
        if role == Role.REPORTER and org_id is not None:
            reporters.setdefault(org_id, []).append(user_id)
        elif role in CERT_ROLES:
            staff.append(user_id)
    return rows.People([(oid, slug) for oid, slug in orgs], reporters, staff)


def _allocate_references(
    conn: Connection, received: Sequence[dt.datetime]
) -> list[tuple[int, int]]:
    """(year, number) per incident: one contiguous block per year, one counter bump per year."""
    per_year = Counter(t.year for t in received)
    next_number: dict[int, int] = {}
    for year in sorted(per_year):
        last = conn.execute(_BUMP, {"year": year, "n": per_year[year]}).scalar_one()
        next_number[year] = last - per_year[year] + 1
    numbers: list[tuple[int, int]] = []
    for t in received:  # sorted, so numbers follow reception within a year
        numbers.append((t.year, next_number[t.year]))
        next_number[t.year] += 1
    return numbers


def _reserve_ids(conn: Connection, count: int) -> list[int]:
    """Primary keys for the new incidents, so that observables can point at them."""
    if conn.dialect.name == "postgresql":  # dialect-specific: draw from the id sequence
        query = text(
            "SELECT nextval(pg_get_serial_sequence('incidents', 'id')) "
            "FROM generate_series(1, :n) ORDER BY 1"
        ).bindparams(bindparam("n", type_=Integer))
        return list(conn.execute(query, {"n": count}).scalars())
    # SQLite: the counter bump above holds the database's single write lock until commit.
    top = conn.execute(select(func.max(Incident.id))).scalar() or 0
    return list(range(top + 1, top + 1 + count))


def _insert(
    conn: Connection,
    model: type[Incident] | type[IncidentObservable],
    columns: Sequence[str],
    batch: list[dict[str, Any]],
) -> None:
    if not batch:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, model.__tablename__, columns, batch)
    else:
        conn.execute(insert(model), batch)


def _copy(
    conn: Connection, table: str, columns: Sequence[str], batch: list[dict[str, Any]]
) -> None:
    """Dialect-specific (PostgreSQL, psycopg 3): ``COPY … FROM STDIN`` in the same transaction."""
    raw = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for values in rows.copy_tuples(batch, columns):
            copy.write_row(values)


def _ranges(prefix: str, numbers: Sequence[tuple[int, int]]) -> dict[int, tuple[str, str]]:
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for year, number in numbers:
        first.setdefault(year, number)
        last[year] = number
    return {
        y: (format_reference(prefix, y, first[y]), format_reference(prefix, y, last[y]))
        for y in first
    }


def iter_years(result: BulkResult) -> Iterator[str]:
    """``2025: MACERT-2025-000001 … MACERT-2025-049871`` lines for the CLI."""
    for year, (first, last) in sorted(result.references.items()):
        yield f"{year}: {first} … {last}"
