"""API intake throughput: ``POST /api/v1/incidents`` against a bare Flask + SQLAlchemy baseline.

Both run in the same process, on the same database, with the same JSON bodies, through Flask's
test client (no network, no server: what is measured is the application's own cost):

* **Vigie**: the real application (``create_app``) on a freshly migrated database that already
  holds ``--history`` incidents, a reporter with API tokens; each POST is authenticated,
  rate-limited, validated, classified, prioritised, mined for observables, checked for
  duplicates, audited and acknowledged (outbox row).
* **Baseline**: a bare Flask app whose only route parses the JSON and inserts an equivalent row
  (same columns, roughly) into a similar table with the SQLAlchemy ORM (add + commit), without
  any validation, authentication or side effect.

Rounds alternate between the two; the median rate of each is reported with their ratio
(target: ≥ 0.5). With ``--http`` both are served by gunicorn instead and POSTed to over loopback
HTTP by the same client threads; ``--floor`` (SQLite) also replays the SQL of each app without
Python. See ``bench/README.md``.

    .venv/bin/python bench/intake.py --count 500 --rounds 3
    .venv/bin/python bench/intake.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on the import path, where a sibling script would
# shadow a standard module imported later (bench/queue.py hides ``queue``, which thread pools,
# psycopg and gunicorn import): keep it out, and import the helper modules as ``bench.…``.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import functools  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from contextlib import ExitStack  # noqa: E402

from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.intake_floor import floor  # noqa: E402
from bench.intake_http import SERVE, HttpPoster, http_server, serve  # noqa: E402
from bench.intake_setup import (  # noqa: E402
    API_PATH,
    PER_TOKEN,
    Poster,
    analyse,
    baseline_app,
    bench_database,
    body,
    create_reporter_tokens,
    has_intake_route,
    vigie_app,
)
from core.db import make_engine  # noqa: E402

TARGET_RATIO = 0.5
WARM_UP = 20


def run(args: argparse.Namespace) -> int:
    with (
        bench_database(args.database_url) as url,
        tempfile.TemporaryDirectory() as instance,
        ExitStack() as servers,
    ):
        app = vigie_app(url, Path(instance))
        if not has_intake_route(app):
            print(f"SKIPPED: the application has no POST {API_PATH} route yet; run again later.")
            return 0
        posts = WARM_UP + (args.rounds + int(args.profile) + int(args.floor)) * args.count
        tokens = create_reporter_tokens(url, -(-posts // PER_TOKEN), args.history)
        engine = make_engine(url)
        vigie = Poster(app.test_client(), API_PATH, tokens)
        bare = Poster(baseline_app(engine).test_client(), "/incidents")
        if args.http:
            ports = [
                servers.enter_context(http_server(which, url, Path(instance), args.workers))
                for which in ("vigie", "baseline")
            ]
            vigie = HttpPoster(ports[0], API_PATH, tokens, args.clients)
            bare = HttpPoster(ports[1], "/incidents", (), args.clients)
        for i in range(WARM_UP):
            vigie.post(body("warm", i))
            bare.post(body("warm", i))
        analyse(engine)
        vigie_rates, bare_rates = [], []
        for r in range(args.rounds):
            bare_rates.append(bare.rate(f"r{r}", args.count))
            vigie_rates.append(vigie.rate(f"r{r}", args.count))
        if args.profile:
            profile(vigie, args.count)
        if args.floor:
            database = Path(make_url(url).database or "")
            print_floor(database, engine, vigie, bare, args.count, Path(instance))
        engine.dispose()
        return report(make_url(url).get_backend_name(), args, vigie_rates, bare_rates)


def print_floor(
    database: Path, engine: Engine, vigie: Poster, bare: Poster, count: int, scratch: Path
) -> None:
    """One more round of each, recorded, then its SQL replayed without Python (SQLite)."""
    rounds = {"Vigie": vigie, "baseline": bare}
    results = floor(
        database,
        engine,
        {k: functools.partial(p.rate, "floor", count) for k, p in rounds.items()},
        count,
        scratch,
    )
    print("SQL floor (one more round of each, its statements replayed with bare sqlite3):")
    for name, (rate, replayed, without_fts, statements) in results.items():
        print(
            f"  {name:8} {rate:8.1f} req/s in the app; its SQL alone {replayed:8.1f} req/s "
            f"({statements} statements per POST), {without_fts:8.1f} req/s without the "
            "full-text triggers"
        )
    best = results["baseline"][0] / results["Vigie"][1]
    print(f"  baseline request rate / Vigie's SQL floor: {best:.2f} (no code can beat it)")


def profile(vigie: Poster, count: int) -> None:
    """One more Vigie round under cProfile: where the time of a POST goes (Vigie's code)."""
    profiler = cProfile.Profile()
    profiler.enable()
    vigie.rate("profile", count)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(r"/(cert|incidents)/", 30)


def report(
    backend: str, args: argparse.Namespace, vigie_rates: list[float], bare_rates: list[float]
) -> int:
    vigie, bare = statistics.median(vigie_rates), statistics.median(bare_rates)
    ratio = vigie / bare
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW TARGET"
    how = "Flask test client"
    if args.http:
        how = f"HTTP, gunicorn {args.workers} worker(s), {args.clients} client thread(s)"
    print(f"backend {backend}, {how}: {args.rounds} round(s) of {args.count} POSTs (median)")
    print(f"  baseline (bare Flask + SQLAlchemy insert): {bare:8.1f} req/s  {_all(bare_rates)}")
    print(f"  Vigie    POST {API_PATH}:          {vigie:8.1f} req/s  {_all(vigie_rates)}")
    print(f"  ratio {ratio:.2f} (target ≥ {TARGET_RATIO}): {verdict}")
    return 1 if args.strict and ratio < TARGET_RATIO else 0


def _all(rates: list[float]) -> str:
    return "[" + ", ".join(f"{r:.0f}" for r in rates) + "]"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=500, help="POSTs per round (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL database to run in (a temporary schema is created and dropped); "
        "default: a temporary SQLite file",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile one more round of Vigie POSTs"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="SQLite: one more round of each app, its SQL replayed without Python (the floor)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="serve both apps with gunicorn and POST over loopback HTTP instead of the test client",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=10_000,
        help="synthetic incidents already in the database before the first POST (default 10000)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers with --http")
    parser.add_argument("--clients", type=int, default=4, help="client threads with --http")
    parser.add_argument(
        "--strict", action="store_true", help=f"exit 1 when the ratio is below {TARGET_RATIO}"
    )
    args = parser.parse_args(argv)
    if args.history < 0:
        parser.error("--history must be 0 or more")
    if min(args.count, args.rounds, args.workers, args.clients) < 1:
        parser.error("--count, --rounds, --workers and --clients must be at least 1")
    if args.http and (args.profile or args.floor):
        parser.error("--profile and --floor measure in-process: not with --http")
    if args.floor and args.database_url:
        parser.error("--floor replays SQL with the sqlite3 module: SQLite only")
    return args


if __name__ == "__main__":
    if SERVE in os.environ:
        serve()
    else:
        sys.exit(run(parse_args(None)))
