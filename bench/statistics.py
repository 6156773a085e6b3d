"""SQLite: the cost of a bulk load and of API intake under three states of planner statistics.

* ``none``: no ``sqlite_stat1`` (a database never analysed);
* ``stale``: statistics taken on a dozen incidents — what ``db.refresh_statistics`` wrote when
  the scheduler started on a nearly empty database, before it refreshed only stale tables —
  then never refreshed while ``--incidents`` are bulk-loaded;
* ``fresh``: ``ANALYZE`` after the load (what ``cert demo --incidents`` and the statistics job do).

For each: the bulk load's time per 1,000 incidents at its start and at its end (the ratio shows
whether the cost stays flat), then, through the real application, the time of a ``POST
/api/v1/incidents`` and of the reporter's list page (``GET /api/v1/incidents?limit=50``, which
loads the observables of the page's incidents). Ratios, not absolute times, are what to read:
the machine this runs on sets the rest.

    .venv/bin/python bench/statistics.py --incidents 30000
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on the import path, where bench/queue.py would
# shadow the standard ``queue`` module: keep it out (see bench/intake.py).
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import Engine, event, text  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.intake_setup import (  # noqa: E402
    API_PATH,
    bench_database,
    body,
    create_reporter_tokens,
    vigie_app,
)
from core.clock import SystemClock  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from core.uow import transaction  # noqa: E402
from incidents.demo.synthetic import generate_incidents  # noqa: E402
from incidents.settings import IntakeSettings  # noqa: E402

MODES = ("none", "stale", "fresh")
BATCH = 1000


def bulk_load(engine: Engine, count: int) -> list[float]:
    """Seconds of each batch of 1,000 incidents (their rows and observables)."""
    spent: list[float] = []
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO incidents "):
            spent.append(time.perf_counter() - started[-1])
        elif statement.startswith("INSERT INTO incident_observables "):
            spent[-1] += time.perf_counter() - started[-1]

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with transaction(make_session_factory(engine)) as session:
            generate_incidents(
                session,
                Actor.system("bench"),
                count,
                clock=SystemClock(),
                settings=IntakeSettings(),
                batch_size=BATCH,
            )
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return spent


def run_mode(mode: str, count: int, posts: int) -> dict[str, float]:
    with bench_database(None) as url, tempfile.TemporaryDirectory() as instance:
        [token] = create_reporter_tokens(url, 1, history=12 if mode == "stale" else 0)
        engine = make_engine(url)
        try:
            if mode == "stale":
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            batches = bulk_load(engine, count)
            if mode == "fresh":
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
        finally:
            engine.dispose()
        client = vigie_app(url, Path(instance)).test_client()
        headers = {"Authorization": f"Bearer {token}"}
        post_ms, list_ms = [], []
        for index in range(posts):
            started = time.perf_counter()
            response = client.post(API_PATH, json=body(mode, index), headers=headers)
            post_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.get_data(as_text=True)[:300]
            started = time.perf_counter()
            response = client.get(f"{API_PATH}?limit=50", headers=headers)
            list_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    edge = max(1, len(batches) // 10)
    return {
        "bulk_s": sum(batches),
        "first_k_ms": statistics.median(batches[:edge]) * 1000,
        "last_k_ms": statistics.median(batches[-edge:]) * 1000,
        "post_ms": statistics.median(post_ms),
        "list_ms": statistics.median(list_ms),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=30_000, help="bulk-loaded (30,000)")
    parser.add_argument("--posts", type=int, default=40, help="API POSTs and list pages (40)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    add_option(parser)
    args = parser.parse_args(argv)
    enable(args.json)
    results = {mode: run_mode(mode, args.incidents, args.posts) for mode in args.modes}
    print(f"SQLite, {args.incidents:,} incidents bulk-loaded in batches of {BATCH:,}")
    print(f"{'statistics':10} {'bulk':>7} {'1st 1k':>8} {'last 1k':>8} {'last/1st':>8}"
          f" {'POST':>8} {'list':>8}")  # fmt: skip
    for mode, r in results.items():
        growth = r["last_k_ms"] / r["first_k_ms"]
        print(
            f"{mode:10} {r['bulk_s']:>6.1f}s {r['first_k_ms']:>6.0f}ms {r['last_k_ms']:>6.0f}ms"
            f" {growth:>8.2f} {r['post_ms']:>6.1f}ms {r['list_ms']:>6.1f}ms"
        )
        emit(
            f"statistics {mode}: bulk load of {args.incidents:,}, last 1,000 / first 1,000",
            "sqlite",
            r["last_k_ms"],
            "ms",
            "0.7–1.3 (flat)",
            0.7 <= growth <= 1.3,
            baseline=r["first_k_ms"],
            note="figure and baseline: ms per 1,000 incidents at the end and at the start",
        )
    if "none" in results:
        base = results["none"]
        for mode, r in results.items():
            if mode != "none":
                print(
                    f"{mode} / none: bulk {r['bulk_s'] / base['bulk_s']:.2f}, "
                    f"POST {r['post_ms'] / base['post_ms']:.2f}, "
                    f"list {r['list_ms'] / base['list_ms']:.2f}"
                )
                for key, what in (("post_ms", "API POST"), ("list_ms", "reporter's list page")):
                    ratio = r[key] / base[key]
                    emit(
                        f"statistics {mode}: {what} (median) vs never analysed",
                        "sqlite",
                        r[key],
                        "ms",
                        "≤ 1.3× (plans kept whatever the statistics)",
                        ratio <= 1.3,
                        baseline=base[key],
                        note="baseline: the same with no statistics at all",
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
