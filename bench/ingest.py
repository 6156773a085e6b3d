"""STIX 2.1 ingest: Vigie's import of a 100,000-indicator bundle against ``stix2.parse`` and a
floor, all three from the same run and the same bytes.

* **Vigie**: :func:`feeds.rules.stix.parse_bundle` + :func:`feeds.index.store.store_records`
  into a freshly migrated database (one feed, one transaction, committed), as
  ``cert feeds import`` does;
* **stix2**: ``stix2.parse(bundle, allow_custom=False)`` of the same bytes (objects only, no
  database) — what a library-based import would pay before storing anything;
* **floor**: ``orjson.loads`` + two ``executemany`` of equivalent rows (one per indicator with
  the same columns, one per value, the value cut out of the pattern with ``str.split``) into
  tables with the same ``(kind, value)`` index, no checking at all.

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

import orjson  # noqa: E402
from sqlalchemy import (  # noqa: E402
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)

from bench.ingest_data import generate  # noqa: E402
from bench.intake_setup import analyse, bench_database  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from core.markings import Tlp  # noqa: E402
from core.uow import transaction  # noqa: E402
from feeds.index.store import store_records  # noqa: E402
from feeds.models import Feed, FeedKind, IndicatorValue  # noqa: E402
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


def floor(engine: Engine, data: bytes) -> tuple[float, int]:
    """Seconds for ``orjson.loads`` + ``executemany`` of equivalent rows; rows of values."""
    metadata = MetaData()
    indicators = Table(
        "bench_floor_indicators",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("feed_id", Integer),
        Column("source_ref", String(200)),
        Column("stix_id", String(100)),
        Column("name", String(300)),
        Column("pattern", Text),
        Column("pattern_type", String(32)),
        Column("tlp", String(20)),
        Column("confidence", Integer),
        Column("labels", JSON),
        Column("kill_chain_phases", JSON),
        Column("valid_from", String(40)),
        Column("revoked", Boolean),
        Column("modified", String(40)),
        Column("created_at", DateTime(timezone=True)),
    )
    values = Table(
        "bench_floor_values",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("indicator_id", Integer, index=True),
        Column("kind", String(16)),
        Column("value", String(2048)),
        Index("ix_bench_floor_values_kind_value", "kind", "value"),
    )
    metadata.create_all(engine)
    try:
        gc.collect()
        started = time.perf_counter()
        objects = orjson.loads(data)["objects"]
        rows: list[dict[str, object]] = []
        value_rows: list[dict[str, object]] = []
        for obj in objects:
            if obj["type"] != "indicator":
                continue
            number = len(rows) + 1
            rows.append(
                {
                    "id": number,
                    "feed_id": 1,
                    "source_ref": obj["id"],
                    "stix_id": obj["id"],
                    "name": obj.get("name", ""),
                    "pattern": obj["pattern"],
                    "pattern_type": obj["pattern_type"],
                    "tlp": "TLP:GREEN",
                    "confidence": obj.get("confidence"),
                    "labels": obj.get("labels", []),
                    "kill_chain_phases": obj.get("kill_chain_phases", []),
                    "valid_from": obj["valid_from"],
                    "revoked": False,
                    "modified": obj["modified"],
                    "created_at": NOW,
                }
            )
            pattern: str = obj["pattern"]
            kind = pattern[1 : pattern.index(":")]
            value_rows.append(
                {"indicator_id": number, "kind": kind[:16], "value": pattern.split("'")[1]}
            )
        with engine.begin() as conn:
            conn.execute(indicators.insert(), rows)
            conn.execute(values.insert(), value_rows)
        return time.perf_counter() - started, len(value_rows)
    finally:
        metadata.drop_all(engine)


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
    print(f"bundle: {args.count:,} indicators, {len(data) / 1e6:.1f} MB")
    with bench_database(args.database_url) as url:
        engine = make_engine(url)
        backend = engine.dialect.name
        parse_s, store_s, stored = vigie(engine, data, args.profile)
        analyse(engine)
        floor_s, floor_rows = floor(engine, data)
        engine.dispose()
    total = parse_s + store_s
    print(f"{backend}: Vigie parse {parse_s:.2f} s + store {store_s:.2f} s = {total:.2f} s")
    print(f"  ({stored:,} index values; {args.count / (parse_s + store_s):,.0f} indicators/s)")
    print(f"  floor (orjson.loads + executemany, {floor_rows:,} values): {floor_s:.2f} s")
    stix2_s, parsed = stix2_parse(data, args.stix2_sample)
    scaled = "" if parsed >= args.count else f" (scaled from {parsed:,} objects)"
    print(f"  stix2.parse: {stix2_s:.1f} s{scaled}")
    faster, over_floor = stix2_s / total, total / floor_s
    print(f"  Vigie is {faster:.1f}x faster than stix2.parse (target >= {TARGET_STIX2:.0f}x)")
    print(f"  Vigie is {over_floor:.2f}x the floor (target <= {TARGET_FLOOR:.0f}x)")
    met = faster >= TARGET_STIX2 and over_floor <= TARGET_FLOOR
    print("  targets met" if met else "  TARGET MISSED")
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
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
