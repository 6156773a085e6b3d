"""``bench/queue.py --schema NAME``: a PostgreSQL schema kept between runs (the 1,000,000-incident
queue, built once), and the bench's report (human table and ``--json`` results). Loaded by
``bench/queue.py`` (see its module).

A schema filled by ``cert demo --incidents N`` (the same generator) is taken as it is. Otherwise
a kept schema is built as the throw-away database is (migrated, then the demo accounts and
``--incidents`` synthetic incidents of :func:`incidents.demo.synthetic.generate_incidents`, then
``VACUUM ANALYZE``) and marked complete only at the end: a build that was interrupted is dropped
and started again at the next run. A complete schema holding the same number of incidents is
reused as it is (migrated to the head first, a no-op when nothing new); the analyst's password is
set again (a random one) since the run that built it kept it in memory only.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bench.emit import emit
from cert import schema
from core.auth import services as accounts
from core.clock import SystemClock
from core.db import make_engine, make_session_factory
from core.identity.authz import Actor
from core.identity.models import User
from core.uow import transaction

MARK = "vigie_bench_complete"  # a table of the kept schema: its row says the build finished


@contextmanager
def kept_database(
    database_url: str,
    name: str,
    count: int,
    populate: Callable[[str], tuple[str, float]],
    analyst: str,
) -> Iterator[tuple[str, str, float | None]]:
    """The URL of schema ``name`` of that PostgreSQL database, the analyst's password, and the
    seconds the build took (``None``: reused as it was)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        raise SystemExit("--schema: a postgresql+psycopg:// --database-url")
    if not name.replace("_", "").isalnum():
        raise SystemExit("--schema: letters, digits and underscores only")
    url = (
        make_url(database_url)
        .update_query_dict({"options": f"-csearch_path={name}"})
        .render_as_string(hide_password=False)
    )
    admin = make_engine(database_url)
    try:
        with admin.begin() as conn:
            found = conn.execute(
                text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{name}.{MARK}"}
            ).scalar_one()
            held = (
                conn.execute(text(f'SELECT incidents FROM "{name}".{MARK}')).scalar_one()  # noqa: S608
                if found
                else _built_by_demo(conn, name, count)
            )
            if held != count:  # absent, interrupted, or another size: built again
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
    finally:
        admin.dispose()
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()
    if held == count:
        if not found:  # cert demo analysed it; VACUUM too, as autovacuum would (index-only scans)
            vacuum_schema(url)
            _mark(url, count)
        yield url, _new_password(url, analyst), None
        return
    password, seconds = populate(url)
    _mark(url, count)
    yield url, password, seconds


def _built_by_demo(conn: Any, name: str, count: int) -> int | None:
    """A schema filled by ``cert demo --incidents N`` (same generator; the demo's own dozen
    reports and other slices' records besides): ``count`` when it holds that many."""
    if not conn.execute(
        text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{name}.incidents"}
    ).scalar_one():
        return None
    held = conn.execute(text(f'SELECT count(*) FROM "{name}".incidents')).scalar_one()  # noqa: S608
    return count if count <= held < count + 100 else None


def vacuum_schema(url: str) -> None:
    """``VACUUM ANALYZE`` of the kept schema's tables only (a bare ``VACUUM`` would go through
    every schema of the database)."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            tables = conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).all()
            conn.exec_driver_sql("VACUUM ANALYZE " + ", ".join(f'"{t}"' for t in tables))
    finally:
        engine.dispose()


def _mark(url: str, count: int) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {MARK} (incidents integer NOT NULL)"))
            conn.execute(text(f"INSERT INTO {MARK} VALUES (:n)"), {"n": count})  # noqa: S608
    finally:
        engine.dispose()


def _new_password(url: str, email: str) -> str:
    password = "Bench-" + secrets.token_urlsafe(18)
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            user = session.scalars(select(User).where(User.email == email)).one()
            accounts.set_password(
                session, Actor.for_user(user), user, password, clock=SystemClock()
            )
    finally:
        engine.dispose()
    return password


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scale(count: int) -> str:
    """100k, 1M: the size a result's work names (``bench/run_all.py`` pairs them by it)."""
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    return f"{count // 1000}k" if count % 1000 == 0 else f"{count:,}"


def report(
    backend: str, args: argparse.Namespace, results: list[Any], list_target: float, dash: float
) -> int:
    print(f"{args.repeat} requests each; server time through the test client vs raw SQL replay")
    print(f"{'page (with its count)':44} {'rows':>4} {'app p50':>8} {'app p95':>8}"
          f" {'SQL p50':>8} {'SQL p95':>8}  queries")  # fmt: skip
    above = []
    for r in results:
        p95 = percentile(r.app_ms, 0.95)
        if p95 > r.target:
            above.append(r.name)
        print(
            f"{r.name[:44]:44} {r.rows:>4} {statistics.median(r.app_ms):>6.1f}ms {p95:>6.1f}ms"
            f" {statistics.median(r.sql_ms):>6.1f}ms {percentile(r.sql_ms, 0.95):>6.1f}ms"
            f"  {r.statements}{'  ABOVE TARGET' if p95 > r.target else ''}"
        )
        emit(
            f"queue {scale(args.incidents)}: {r.name} (p95)",
            backend,
            p95,
            "ms",
            f"≤ {r.target:.0f} ms",
            p95 <= r.target,
            baseline=percentile(r.sql_ms, 0.95),
            note=f"baseline: its {r.statements} SQL statements replayed alone; {r.rows} rows",
        )
    for target, label in ((list_target, "lists and searches"), (dash, "dashboard")):
        mine = [percentile(r.app_ms, 0.95) for r in results if r.target == target]
        if mine:
            verdict = "OK" if max(mine) <= target else "ABOVE TARGET"
            print(f"{label}: worst p95 {max(mine):.1f} ms (target ≤ {target:.0f} ms): {verdict}")
    return 1 if args.strict and above else 0
