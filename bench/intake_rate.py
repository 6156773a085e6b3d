"""Intake rate at two table sizes (issue 24): ``POST /api/v1/incidents`` requests per second
with 1,000 and with 100,000 incidents already stored, each beside ``bench/intake_ceiling.py``'s
lean intake (Vigie's work on bare Flask + SQLAlchemy Core, nothing else) measured in the same
run on the same database.

For each ``--histories`` size: a throw-away database (``bench/intake.py``'s: a SQLite file or a
PostgreSQL schema) holding that many synthetic incidents of the reporting ministry, the real
application and the lean app through Flask's test client, a warm-up, ``ANALYZE`` (both databases:
a live one has statistics, from autovacuum or the scheduler's ``db.refresh_statistics``),
then ``--rounds`` alternating rounds of ``--count`` POSTs of each (their own bodies: the lean
app's rows do not become the real one's duplicates). Targets: Vigie ≥ 0.6 × the lean rate at
each size, and Vigie's rate at the larger size ≥ 0.9 × its rate at the smaller. The bare
one-row baseline of ``bench/intake.py`` runs too, for reference (the old ratio).

    .venv/bin/python bench/intake_rate.py
    .venv/bin/python bench/intake_rate.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/intake_rate.py --histories 1000 100000 --count 300 --rounds 3 --profile
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # see bench/intake.py: keep this directory off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from sqlalchemy.engine import make_url  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.intake_ceiling import lean_app  # noqa: E402
from bench.intake_setup import (  # noqa: E402
    API_PATH,
    PER_TOKEN,
    Poster,
    analyse,
    baseline_app,
    bench_database,
    body,
    create_reporter_tokens,
    vigie_app,
)
from bench.queue_kept import scale  # noqa: E402
from core.db import make_engine  # noqa: E402

TARGET_CEILING = 0.6  # Vigie / lean, at each size
TARGET_FLAT = 0.9  # Vigie at the larger size / Vigie at the smaller
WARM_UP = 20


@dataclass(frozen=True)
class Rates:
    history: int
    vigie: list[float]
    lean: list[float]
    bare: list[float]

    def median(self, which: str) -> float:
        return float(statistics.median(getattr(self, which)))


def measure(args: argparse.Namespace, history: int) -> Rates:
    with bench_database(args.database_url) as url, tempfile.TemporaryDirectory() as instance:
        posts = WARM_UP + (args.rounds + int(args.profile)) * args.count
        tokens = create_reporter_tokens(url, -(-posts // PER_TOKEN), history)
        engine = make_engine(url)
        vigie = Poster(vigie_app(url, Path(instance)).test_client(), API_PATH, tokens)
        lean = Poster(lean_app(engine).test_client(), "/incidents", tokens)
        bare = Poster(baseline_app(engine).test_client(), "/incidents")
        for i in range(WARM_UP):
            vigie.post(body("warm-v", i))
            lean.post(body("warm-l", i))
            bare.post(body("warm-b", i))
        analyse(engine)
        if engine.dialect.name == "sqlite":  # what the scheduler's db.refresh_statistics does
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        rates = Rates(history, [], [], [])
        for r in range(args.rounds):  # alternating: a load spike hits each of them alike
            rates.bare.append(bare.rate(f"b{r}", args.count))
            rates.lean.append(lean.rate(f"l{r}", args.count))
            rates.vigie.append(vigie.rate(f"v{r}", args.count))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            vigie.rate("profile", args.count)
            profiler.disable()
            print(f"--- profile of {args.count} Vigie POSTs at {history:,} stored incidents")
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(r"/(cert|core|incidents|feeds)/", 35)
        engine.dispose()
        backend = make_url(url).get_backend_name()
    print(
        f"backend {backend}, {history:,} incidents stored: {args.rounds} round(s) of "
        f"{args.count} POSTs (median req/s)"
    )
    for which, label in (("bare", "bare one-row insert"), ("lean", "lean ceiling"),
                         ("vigie", f"Vigie POST {API_PATH}")):  # fmt: skip
        values = getattr(rates, which)
        every = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {label:32} {rates.median(which):8.1f} req/s  [{every}]")
    ratio = rates.median("vigie") / rates.median("lean")
    print(f"  Vigie / ceiling {ratio:.2f} (target ≥ {TARGET_CEILING}); "
          f"Vigie / bare {rates.median('vigie') / rates.median('bare'):.2f}")  # fmt: skip
    return rates


def run(args: argparse.Namespace) -> int:
    results = [measure(args, history) for history in args.histories]
    backend = "postgresql" if args.database_url else "sqlite"
    missed = False
    for rates in results:
        vigie, lean = rates.median("vigie"), rates.median("lean")
        met = vigie / lean >= TARGET_CEILING
        missed |= not met
        emit(
            f"intake at {scale(rates.history)} stored: POST /api/v1/incidents (req/s, median)",
            backend,
            vigie,
            "req/s",
            f"≥ {TARGET_CEILING} × ceiling",
            met,
            baseline=lean,
            note=f"baseline: bench/intake_ceiling.py's lean intake; bare one-row insert "
            f"{rates.median('bare'):.0f} req/s (ratio {vigie / rates.median('bare'):.2f})",
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        flat = last.median("vigie") / first.median("vigie")
        missed |= flat < TARGET_FLAT
        emit(
            f"intake at {scale(last.history)} vs {scale(first.history)} stored (req/s)",
            backend,
            last.median("vigie"),
            "req/s",
            f"≥ {TARGET_FLAT} × the {scale(first.history)} rate",
            flat >= TARGET_FLAT,
            baseline=first.median("vigie"),
            note=f"lean ceiling: {last.median('lean') / first.median('lean'):.2f} "
            "between the same sizes",
        )
        print(f"Vigie at {last.history:,} / at {first.history:,}: {flat:.2f} "
              f"(target ≥ {TARGET_FLAT})")  # fmt: skip
    return 1 if args.strict and missed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="PostgreSQL (a temporary schema); default SQLite")
    parser.add_argument(
        "--histories", type=int, nargs="+", default=[1_000, 100_000],
        help="incidents stored before the POSTs, one database each (default 1000 100000)",
    )  # fmt: skip
    parser.add_argument("--count", type=int, default=300, help="POSTs per round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile one more Vigie round")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    add_option(parser)
    args = parser.parse_args(argv)
    if min(args.count, args.rounds, *args.histories) < 1:
        parser.error("--count, --rounds and --histories must be at least 1")
    enable(args.json)
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args()))
