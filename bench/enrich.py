"""Enrichment: 1,000 mixed observables against 1,000,000 indicators (``POST /api/v1/enrich``'s
and intake's lookup, :func:`feeds.index.lookup.match_observables`), target ≤ 50 ms.

A freshly migrated throw-away database (a temporary SQLite file, or a temporary schema of the
PostgreSQL database given) is bulk-loaded with one feed of 1,000,000 indicators, one index value
each (``executemany`` on SQLite, ``COPY`` on PostgreSQL): IPv4 addresses and networks (/16, /24),
domains, URLs and SHA-256 hashes. 1,000 observables — 400 IPv4, 300 domains, 100 URLs, 200
hashes, about a third of them meeting an indicator (exact, by network, by parent domain, by URL
host) — are then matched ``--rounds`` times, each round in a new session (no identity map kept
from the round before). Printed from the same run: Vigie's median and worst round, and the
**floor** — the same lookups (the same keys, from :func:`feeds.rules.keys.lookup_keys`, computed
beforehand) as plain SQL on the same tables and indexes through the DB-API cursor, rows fetched
as tuples, no ORM, no sorting.

    .venv/bin/python bench/enrich.py
    .venv/bin/python bench/enrich.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # keep sibling scripts (bench/queue.py) off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Any, cast  # noqa: E402

from sqlalchemy import Engine  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.intake_setup import analyse, bench_database  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from feeds.index.lookup import BATCH, match_observables  # noqa: E402
from feeds.index.prefixes import stored_prefixes  # noqa: E402
from feeds.rules.keys import lookup_keys  # noqa: E402

TARGET_MS = 50.0
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
_INDICATOR_COLUMNS = (
    "id, feed_id, source_ref, name, description, tlp, confidence, labels, indicator_types, "
    "kill_chain_phases, related, revoked, detect, created_at, updated_at"
)


def indicator_values(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """``count`` distinct (kind, value) pairs: 40 % IPv4 (a tenth of them networks), 30 %
    domains, 10 % URLs, 20 % SHA-256."""
    values: list[tuple[str, str]] = []
    for i in range(count):
        share = i % 10
        if share < 4:
            if i % 40 == 0:
                values.append(
                    ("ipv4", f"{11 + i % 200}.{(i // 200) % 256}.{(i // 51200) % 256}.0/24")
                )
            else:
                values.append(
                    (
                        "ipv4",
                        f"{11 + i % 200}.{(i // 200) % 256}.{(i // 51200) % 256}.{1 + i % 250}",
                    )
                )
            continue
        if share < 7:
            values.append(("domain", f"host{i}.bad{i % 5000}.example"))
        elif share < 8:
            values.append(("url", f"https://drop{i}.example/p/{i}"))
        else:
            values.append(("sha256", f"{i:064x}"))
    return list(dict.fromkeys(values))


def observables(stored: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """1,000 observables: about a third meet an indicator, the others miss."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in stored:
        by_kind[kind].append(value)
    chosen: list[tuple[str, str]] = []
    for n in range(400):
        net = rng.choice(
            [v for v in rng.sample(by_kind["ipv4"], 50) if v.endswith("/24")] or ["1.2.3.0/24"]
        )
        chosen.append(
            (
                "ipv4",
                net.replace(".0/24", f".{7 + n % 200}")
                if n % 3 == 0
                else f"203.{n % 250}.{n // 250}.9",
            )
        )
    for n in range(300):
        hit = rng.choice(by_kind["domain"])
        chosen.append(("domain", f"www.{hit}" if n % 3 == 0 else f"clean{n}.example.org"))
    for n in range(100):
        hit = rng.choice(by_kind["domain"])
        chosen.append(
            ("url", f"https://{hit}/login" if n % 3 == 0 else f"https://ok{n}.example.net/")
        )
    for n in range(200):
        chosen.append(
            (
                "sha256",
                rng.choice(by_kind["sha256"]) if n % 3 == 0 else f"{n:064x}".replace("0", "f", 1),
            )
        )
    return chosen


def load(engine: Engine, stored: list[tuple[str, str]]) -> float:
    """Bulk-load one feed and its indicators; seconds taken."""
    start = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = engine.dialect.name == "postgresql"
        stamp = "2026-01-01 00:00:00+00" if postgres else "2026-01-01 00:00:00.000000"
        cursor.execute(
            "INSERT INTO feeds (id, name, kind, default_tlp, confidence, types, enabled, "  # noqa: S608
            "last_counts, created_at) VALUES (1, 'bench', 'file', 'TLP:GREEN', 50, '[]', "
            f"{'true' if postgres else '1'}, '{{}}', '{stamp}')"
        )
        indicators = (
            (i, 1, f"{kind}:{value}", f"bench {kind} {i}", "", "TLP:GREEN", 30 + i % 70,
             "[]", "[]", "[]", "[]", False, True, stamp, stamp)
            for i, (kind, value) in enumerate(stored, start=1)
        )  # fmt: skip
        index_rows = ((i, i, kind, value) for i, (kind, value) in enumerate(stored, start=1))
        lengths = sorted(
            {(k, int(v.rsplit("/", 1)[1])) for k, v in stored if k in ("ipv4", "ipv6") and "/" in v}
        )
        pair = "(%s, %s)" if postgres else "(?, ?)"
        cursor.executemany(  # what feeds.index.store notes with the values it writes
            "INSERT INTO indicator_prefixes (kind, prefix) VALUES " + pair,  # noqa: S608
            lengths,
        )
        if postgres:
            _copy(cursor, f"indicators ({_INDICATOR_COLUMNS})", indicators)
            _copy(cursor, "indicator_values (id, indicator_id, kind, value)", index_rows)
        else:
            marks = ", ".join("?" * 15)
            cursor.execute("PRAGMA synchronous = OFF")  # a throw-away file: no fsync per page
            cursor.executemany(
                f"INSERT INTO indicators ({_INDICATOR_COLUMNS}) VALUES ({marks})",  # noqa: S608
                cast(Any, indicators),
            )
            cursor.executemany(
                "INSERT INTO indicator_values (id, indicator_id, kind, value) VALUES (?, ?, ?, ?)",
                cast(Any, index_rows),
            )
        raw.commit()
    finally:
        raw.close()
    analyse(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - start


def _copy(cursor: Any, target: str, rows: Any) -> None:
    """PostgreSQL-specific: ``COPY … FROM STDIN`` (psycopg 3)."""
    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def vigie_round(engine: Engine, wanted: list[tuple[str, str]]) -> tuple[float, int]:
    factory = make_session_factory(engine)
    start = time.perf_counter()
    with factory() as session:
        results = match_observables(session, wanted, now=NOW)
        session.rollback()
    return (time.perf_counter() - start) * 1000, sum(1 for r in results if r)


def floor_round(engine: Engine, wanted: list[tuple[str, str]]) -> tuple[float, int]:
    """The same look-ups as plain SQL through the DB-API cursor, keys computed beforehand: the
    index rows of every key (one statement, the keys as one JSON or array parameter, as Vigie
    does), then the live indicators they point to, by id, as tuples."""
    with make_session_factory(engine)() as session:  # read before the clock, like Vigie's
        lengths = stored_prefixes(session)
    keys: dict[str, set[str]] = defaultdict(set)
    for kind, value in wanted:
        for key in lookup_keys(kind, value, prefixes=lengths):
            keys[key.kind].add(key.value)
    postgres = engine.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    index_sql = (  # the statements of feeds.index.lookup
        "SELECT v.indicator_id FROM unnest(%s::text[], %s::text[]) AS k(kind, value) "
        "CROSS JOIN LATERAL (SELECT i.indicator_id FROM indicator_values AS i "
        "WHERE i.kind = k.kind AND i.value = k.value OFFSET 0) AS v"
        if postgres
        else "SELECT v.indicator_id FROM json_each(?) AS k CROSS JOIN indicator_values AS v "
        "ON v.kind = json_extract(k.value, '$[0]') AND v.value = json_extract(k.value, '$[1]')"
    )
    now: Any = NOW if postgres else "2026-12-04 12:00:00.000000"
    pairs = [(kind, value) for kind, values in keys.items() for value in sorted(values)]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        if postgres:
            cursor.execute(index_sql, [[k for k, _ in pairs], [v for _, v in pairs]])
        else:
            cursor.execute(index_sql, [json.dumps(pairs)])
        ids = {row[0] for row in cursor.fetchall()}
        found = 0
        chosen = sorted(ids)
        for first in range(0, len(chosen), BATCH):
            chunk = chosen[first : first + BATCH]
            cursor.execute(
                "SELECT i.id, i.name, i.pattern, i.stix_id, i.confidence, i.tlp, i.valid_until, "  # noqa: S608
                "i.related, f.name FROM indicators i JOIN feeds f ON f.id = i.feed_id "
                f"WHERE i.id IN ({', '.join([mark] * len(chunk))}) AND i.revoked = {mark} "
                f"AND i.detect = {mark} AND (i.valid_until IS NULL OR i.valid_until > {mark})",
                [*chunk, False, True, now],
            )
            found += len(cursor.fetchall())
        elapsed = (time.perf_counter() - start) * 1000
        raw.rollback()
    finally:
        raw.close()
    return elapsed, found


def run(args: argparse.Namespace) -> int:
    rng = random.Random(18)
    stored = indicator_values(args.indicators, rng)
    wanted = observables(stored, rng)
    with bench_database(args.database_url) as url:
        engine = make_engine(url)
        seconds = load(engine, stored)
        print(f"{engine.dialect.name}: {len(stored):,} indicators loaded in {seconds:.1f} s")
        vigie_round(engine, wanted)  # warm: caches, statement compilation
        floor_round(engine, wanted)
        vigie, floor = [], []
        hits = found = 0
        for _ in range(args.rounds):
            ms, hits = vigie_round(engine, wanted)
            vigie.append(ms)
            ms, found = floor_round(engine, wanted)
            floor.append(ms)
        engine.dispose()
    median, worst, base = statistics.median(vigie), max(vigie), statistics.median(floor)
    print(
        f"{len(wanted)} observables, {hits} with a match ({found} indicators met): "
        f"Vigie median {median:.1f} ms, worst {worst:.1f} ms; raw SQL floor median {base:.1f} ms "
        f"(×{median / base:.2f}); target ≤ {TARGET_MS:.0f} ms: "
        + ("met" if median <= TARGET_MS else "MISSED")
    )
    emit(
        f"enrich: {len(wanted):,} observables vs {args.indicators:,} indicators (median)",
        engine.dialect.name,
        median,
        "ms",
        f"≤ {TARGET_MS:.0f} ms",
        median <= TARGET_MS,
        baseline=base,
        note=f"baseline: raw SQL of the same look-ups; worst round {worst:.1f} ms",
    )
    return 0 if median <= TARGET_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+psycopg://… (default: SQLite)")
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    add_option(parser)
    args = parser.parse_args()
    enable(args.json)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
