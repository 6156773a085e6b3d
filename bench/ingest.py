"""STIX 2.1 ingest: Vigie's import of a 100,000-indicator bundle against ``stix2.parse`` and a
floor, all three from the same run and the same bytes.

* **Vigie**: :func:`feeds.rules.stix.parse_bundle` + :func:`feeds.index.store.store_records`
  into a freshly migrated database (one feed, one transaction, committed), as
  ``cert feeds import`` does;
* **stix2**: ``stix2.parse(bundle, allow_custom=False)`` of the same bytes (objects only, no
  database) — what a library-based import would pay before storing anything;
* **floor**: ``orjson.loads`` + two ``executemany`` of equivalent rows (one per indicator with
  the same columns, one per value, the value cut out of the pattern with ``str.split``) into
  tables with the same ``(kind, value)`` index, no checking at all — through the driver as
  Vigie's store writes (DBAPI ``executemany`` on SQLite, ``COPY`` on PostgreSQL; the targets'
  floor), and through SQLAlchemy Core as first defined (printed for comparison).

Targets (issue 18): Vigie ≥ 30× faster than ``stix2.parse``, ≤ 3× the floor. See
``bench/README.md``.

    .venv/bin/python bench/ingest.py
    .venv/bin/python bench/ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/ingest.py --count 20000 --stix2-sample 5000   # quicker
"""

from __future__ import annotations

import sys
from pathlib import Path

# as bench/intake.py: keep this directory off the import path (bench/queue.py hides ``queue``)
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import datetime as dt  # noqa: E402
import gc  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import orjson  # noqa: E402
from sqlalchemy import (  # noqa: E402
    JSON,
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.ingest_data import generate  # noqa: E402
from bench.intake_setup import analyse, bench_database  # noqa: E402
from core.db import UtcDateTime, make_engine, make_session_factory  # noqa: E402
from core.markings import Tlp  # noqa: E402
from core.uow import transaction  # noqa: E402
from feeds.index.driver import Encoder, insert_rows  # noqa: E402
from feeds.index.store import SQLITE_CACHE_KIB, store_records  # noqa: E402
from feeds.models import Feed, FeedKind, IndicatorValue  # noqa: E402
from feeds.rules.patterns import fast  # noqa: E402
from feeds.rules.stix import parse_bundle  # noqa: E402

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
TARGET_STIX2 = 30.0
TARGET_FLOOR = 3.0


def vigie(engine: Engine, data: bytes, profile: bool) -> tuple[float, float, int]:
    """Seconds to parse, seconds to store (and commit), values stored."""
    factory = make_session_factory(engine)
    with transaction(factory, write=True) as session:
        session.add(Feed(name="bench", kind=FeedKind.FILE, default_tlp=Tlp.AMBER, created_at=NOW))
    profiler = cProfile.Profile() if profile else None
    gc.collect()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    parsed = parse_bundle(data)
    parsed_at = time.perf_counter()
    with transaction(factory, write=True) as session:
        feed = session.scalars(select(Feed).where(Feed.name == "bench")).one()
        counts = store_records(session, feed, parsed, now=NOW)
    stored_at = time.perf_counter()
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    if counts.rejected or counts.new != len(parsed.indicators):
        raise SystemExit(f"unexpected counts: {counts}")
    with factory() as session:
        values = session.scalar(select(func.count()).select_from(IndicatorValue)) or 0
    return parsed_at - started, stored_at - parsed_at, values


def floor(engine: Engine, data: bytes, driver: bool) -> tuple[float, int]:
    """Seconds for ``orjson.loads`` + ``executemany`` of equivalent rows; rows of values.

    ``driver``: the rows as tuples through :func:`feeds.index.driver.insert_rows` (the DBAPI
    ``executemany`` on SQLite, ``COPY`` on PostgreSQL), JSON columns serialised with orjson —
    the write path Vigie's store takes; otherwise dicts through SQLAlchemy Core's
    ``executemany`` (the floor's first definition, with per-parameter type processing)."""
    metadata = MetaData()
    indicators = Table(
        "bench_floor_indicators",
        metadata,
        Column("id", Integer, primary_key=True),
        *(Column(name, Integer) for name in ("feed_id", "confidence")),
        *(Column(name, String(300)) for name in ("source_ref", "stix_id", "name", "tlp")),
        *(Column(name, Text) for name in ("description", "pattern", "pattern_type")),
        *(Column(name, JSON) for name in FLOOR_JSON),
        *(Column(name, String(40)) for name in FLOOR_TIMES),
        *(Column(name, Boolean) for name in ("revoked", "detect")),
        *(Column(name, UtcDateTime) for name in ("created_at", "updated_at")),
    )
    values = Table(
        "bench_floor_values",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("indicator_id", Integer, index=True),
        Column("kind", String(16)),
        Column("value", String(2048)),
        Column("net_first", String(32)),
        Column("net_last", String(32)),
        Index("ix_bench_floor_values_kind_value", "kind", "value"),
    )
    metadata.create_all(engine)
    try:
        gc.collect()
        started = time.perf_counter()
        with Session(engine) as session, session.begin():
            if engine.dialect.name == "sqlite":  # the page cache Vigie's store takes
                session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}"))
            if driver:
                encoder = Encoder(session)
                rows, value_rows = _floor_tuples(orjson.loads(data)["objects"], encoder)
                insert_rows(session, indicators, FLOOR_COLUMNS, rows)
                insert_rows(session, values, FLOOR_VALUE_COLUMNS, value_rows)
                count = len(value_rows)
            else:
                dicts, value_dicts = _floor_rows(orjson.loads(data)["objects"])
                session.execute(indicators.insert(), dicts)
                session.execute(values.insert(), value_dicts)
                count = len(value_dicts)
        return time.perf_counter() - started, count
    finally:
        metadata.drop_all(engine)


FLOOR_JSON = ("labels", "indicator_types", "kill_chain_phases", "related")
FLOOR_TIMES = ("valid_from", "valid_until", "first_seen", "last_seen", "modified")
FLOOR_COLUMNS = (
    "id", "feed_id", "confidence", "source_ref", "stix_id", "name", "tlp", "description",
    "pattern", "pattern_type", "revoked", "detect", "created_at", "updated_at",
    *FLOOR_JSON, *FLOOR_TIMES,
)  # fmt: skip
FLOOR_VALUE_COLUMNS = ("indicator_id", "kind", "value", "net_first", "net_last")


def _floor_tuples(
    objects: list[dict[str, Any]], encoder: Encoder
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """:func:`_floor_rows` as driver tuples: the JSON columns through orjson, as Vigie's."""
    rows: list[tuple[Any, ...]] = []
    value_rows: list[tuple[Any, ...]] = []
    stamp, json = encoder.time(NOW), encoder.json
    for obj in objects:
        if obj["type"] != "indicator":
            continue
        number = len(rows) + 1
        pattern: str = obj["pattern"]
        ref = obj["id"]
        rows.append(
            (
                number, 1, obj.get("confidence", 50), ref, ref, obj.get("name", ""), "TLP:GREEN",
                obj.get("description", ""), pattern, obj["pattern_type"],
                obj.get("revoked", False), True, stamp, stamp,
                *(json(obj.get(name, [])) for name in FLOOR_JSON),
                *(obj.get(name) for name in FLOOR_TIMES),
            )
        )  # fmt: skip
        kind = pattern[1 : pattern.index(":")][:16]
        value_rows.append((number, kind, pattern.split("'")[1], None, None))
    return rows, value_rows


def _floor_rows(objects: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The same columns as Vigie's rows, copied from the JSON without any check (timestamps
    kept as text, the value cut out of the pattern between its first quotes)."""
    rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, Any]] = []
    for obj in objects:
        if obj["type"] != "indicator":
            continue
        number = len(rows) + 1
        pattern: str = obj["pattern"]
        row = {
            "id": number,
            "feed_id": 1,
            "confidence": obj.get("confidence", 50),
            "source_ref": obj["id"],
            "stix_id": obj["id"],
            "name": obj.get("name", ""),
            "tlp": "TLP:GREEN",
            "description": obj.get("description", ""),
            "pattern": pattern,
            "pattern_type": obj["pattern_type"],
            "revoked": obj.get("revoked", False),
            "detect": True,
            "created_at": NOW,
            "updated_at": NOW,
        }
        row.update({name: obj.get(name, []) for name in FLOOR_JSON})
        row.update({name: obj.get(name) for name in FLOOR_TIMES})
        rows.append(row)
        value_rows.append(
            {
                "indicator_id": number,
                "kind": pattern[1 : pattern.index(":")][:16],
                "value": pattern.split("'")[1],
                "net_first": None,
                "net_last": None,
            }
        )
    return rows, value_rows


def stix2_parse(data: bytes, sample: int | None) -> tuple[float, int]:
    """Seconds for ``stix2.parse`` of the bundle (or of its first ``sample`` objects, scaled)."""
    import stix2

    document = orjson.loads(data)
    total = len(document["objects"])
    if sample is not None and sample < total:
        document["objects"] = document["objects"][:sample]
    text = orjson.dumps(document).decode()
    gc.collect()
    started = time.perf_counter()
    stix2.parse(text, allow_custom=False)
    elapsed = time.perf_counter() - started
    parsed = len(document["objects"])
    return elapsed * total / parsed, parsed


def run(args: argparse.Namespace) -> int:
    data = generate(args.count)
    objects = orjson.loads(data)["objects"]
    grammar = sum(1 for o in objects if o["type"] == "indicator" and fast(o["pattern"]) is None)
    print(
        f"bundle: {args.count:,} indicators ({grammar:,} through the pattern grammar), "
        f"{len(objects) - args.count:,} other objects, {len(data) / 1e6:.1f} MB"
    )
    del objects
    with bench_database(args.database_url) as url:
        engine = make_engine(url)
        backend = engine.dialect.name
        parse_s, store_s, stored = vigie(engine, data, args.profile)
        analyse(engine)
        floor_s, floor_rows = floor(engine, data, driver=True)
        core_s, _ = floor(engine, data, driver=False)
        engine.dispose()
    total = parse_s + store_s
    print(f"{backend}: Vigie parse {parse_s:.2f} s + store {store_s:.2f} s = {total:.2f} s")
    print(f"  ({stored:,} index values; {args.count / (parse_s + store_s):,.0f} indicators/s)")
    writer = "COPY" if backend == "postgresql" else "DBAPI executemany"
    print(f"  floor (orjson.loads + {writer}, {floor_rows:,} values): {floor_s:.2f} s")
    print(f"  floor through SQLAlchemy Core executemany (first definition): {core_s:.2f} s")
    stix2_s, parsed = stix2_parse(data, args.stix2_sample)
    scaled = "" if parsed >= args.count else f" (scaled from {parsed:,} objects)"
    print(f"  stix2.parse: {stix2_s:.1f} s{scaled}")
    if scaled:
        print("  (SAMPLED: stix2.parse figure and ratios scaled, not measured on the bundle)")
    faster, over_floor = stix2_s / total, total / floor_s
    print(f"  Vigie is {faster:.1f}x faster than stix2.parse (target >= {TARGET_STIX2:.0f}x)")
    print(f"    parse alone (no database either side): {stix2_s / parse_s:.1f}x")
    print(f"    the floor itself: {stix2_s / floor_s:.1f}x faster than stix2.parse")
    print(f"  Vigie is {over_floor:.2f}x the floor (target <= {TARGET_FLOOR:.0f}x)")
    met = faster >= TARGET_STIX2 and over_floor <= TARGET_FLOOR
    print("  targets met" if met else "  TARGET MISSED")
    work = f"STIX ingest: {args.count:,} indicators, parse + store"
    sampled = f"; stix2.parse scaled from {parsed:,} objects" if scaled else ""
    emit(
        f"{work} vs stix2.parse",
        backend,
        total,
        "s",
        f"stix2.parse ≥ {TARGET_STIX2:.0f}× Vigie",
        faster >= TARGET_STIX2,
        baseline=stix2_s,
        ratio=faster,
        note="ratio: baseline / figure (how many times faster)" + sampled,
    )
    emit(
        f"{work} vs the floor",
        backend,
        total,
        "s",
        f"≤ {TARGET_FLOOR:.0f}× the floor",
        over_floor <= TARGET_FLOOR,
        baseline=floor_s,
        note=f"baseline: orjson.loads + {writer} of equivalent rows, no checking",
    )
    return 0 if met or not args.strict else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--count", type=int, default=100_000, help="indicators in the bundle")
    parser.add_argument(
        "--stix2-sample", type=int, help="stix2.parse only the first N objects, scaled"
    )
    parser.add_argument("--profile", action="store_true", help="profile Vigie's import")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    add_option(parser)
    args = parser.parse_args()
    enable(args.json)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
