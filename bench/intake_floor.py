"""``bench/intake.py --floor`` (SQLite): what the database alone costs a Vigie POST.

The statements of one round of Vigie POSTs and of baseline POSTs are recorded as the apps send
them (SQL text and parameters, transaction boundaries), then replayed with the bare ``sqlite3``
module on a copy of the database taken before that round: no Flask, no SQLAlchemy, no Python of
Vigie's. The replay of Vigie's statements is the floor its POST cannot go below on this schema
(its indexes and full-text index included); the ratio of the baseline's *whole* request to that
floor is the best ratio any code on this schema could reach.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

Statement = tuple[str, Any]  # (SQL, parameters); ("COMMIT", None) ends a transaction


@contextmanager
def recorded(engine: Engine) -> Iterator[list[Statement]]:
    """Every statement ``engine`` (and the engines of the apps, all SQLAlchemy engines) sends
    while the block runs."""
    log: list[Statement] = []

    def before(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        log.append((sql, params))

    def commit(_conn: Any) -> None:
        log.append(("COMMIT", None))

    target = type(engine)
    event.listen(target, "before_cursor_execute", before)
    event.listen(target, "commit", commit)
    try:
        yield log
    finally:
        event.remove(target, "before_cursor_execute", before)
        event.remove(target, "commit", commit)


def snapshot(database: Path, copy: Path) -> None:
    """A consistent copy of the SQLite database as it is now (sqlite3's online backup)."""
    source, target = sqlite3.connect(database), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def replay(copy: Path, statements: list[Statement], *, without_fts: bool = False) -> float:
    """Seconds the bare ``sqlite3`` module takes to run ``statements`` on ``copy`` (the same
    pragmas as Vigie's engine: WAL, synchronous=NORMAL, foreign keys); ``without_fts`` drops the
    triggers that keep the FTS5 tables current first (not timed)."""
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        if without_fts:
            names = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'fts_%'"
            for (name,) in conn.execute(names).fetchall():
                conn.execute(f'DROP TRIGGER "{name}"')
        cursor = conn.cursor()
        started = time.perf_counter()
        for sql, params in statements:
            if sql == "COMMIT":
                conn.execute("COMMIT")
            elif sql.startswith("BEGIN"):
                conn.execute(sql)
            else:
                if not conn.in_transaction:
                    conn.execute("BEGIN")
                if isinstance(params, list):  # executemany
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params).fetchall()
        return time.perf_counter() - started
    finally:
        conn.close()


def floor(
    database: Path,
    engine: Engine,
    rounds: dict[str, Callable[[], object]],
    count: int,
    scratch: Path,
) -> dict[str, tuple[float, float, float, int]]:
    """Per app: (its rate in the recorded round, the rate of its statements replayed alone, the
    same without the full-text triggers, statements per POST). ``rounds`` runs one round of
    ``count`` POSTs of each app."""
    results: dict[str, tuple[float, float, float, int]] = {}
    for name, post_round in rounds.items():
        copy = scratch / f"floor-{name}.db"
        snapshot(database, copy)
        with recorded(engine) as log:
            started = time.perf_counter()
            post_round()
            elapsed = time.perf_counter() - started
        bare_copy = scratch / f"floor-{name}-without-fts.db"
        shutil.copyfile(copy, bare_copy)
        replayed = replay(copy, log)
        without_fts = replay(bare_copy, log, without_fts=True)
        executed = sum(1 for sql, _ in log if sql != "COMMIT")
        rates = (count / elapsed, count / replayed, count / without_fts)
        results[name] = (*rates, round(executed / count))
        copy.unlink()
        bare_copy.unlink()
    return results
