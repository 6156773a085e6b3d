"""Observables that connect at 100,000 incidents: the queue's default page (with its campaign
flags) and an incident file (marks, seen in, campaign), before and after one indicator becomes
"hot" (held by ``--hot`` incidents of every organisation, among them the page's rows and the file).

Builds the database of ``bench/queue.py`` (same generator, same demo accounts and registered
assets), then measures through the real application's test client with that bench's ``measure``
(p50/p95 server time next to the raw SQL replay of the same statements).

    .venv/bin/python bench/connections.py
    .venv/bin/python bench/connections.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds modules named like the standard library's (queue, statistics): keep it out of
# the import path, as bench/queue.py does
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import Engine, event, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

_spec = importlib.util.spec_from_file_location("vigie_bench_queue", HERE / "queue.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)

from bench.emit import add_option, emit, enable  # noqa: E402
from cert.app import create_app  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.db import make_engine  # noqa: E402
from incidents.models import OPEN_STATUSES, Incident, IncidentObservable  # noqa: E402

HOT = "185.220.101.4"
DEFAULT_PAGE = "/queue?status=open"


def newest_open(engine: Engine, count: int) -> list[tuple[int, str]]:
    query = (
        select(Incident.id, Incident.reference)
        .where(Incident.status.in_(sorted(OPEN_STATUSES)))
        .order_by(Incident.received_at.desc(), Incident.id.desc())
        .limit(count)
    )
    with engine.connect() as conn:
        return [(row[0], row[1]) for row in conn.execute(query)]


def make_hot(engine: Engine, page_ids: list[int], hot: int, seed: int) -> None:
    """The hot indicator on the page's incidents and on ``hot`` random others."""
    with engine.connect() as conn:
        ids = list(conn.scalars(select(Incident.id)))
    chosen = set(page_ids) | set(random.Random(seed).sample(ids, min(hot, len(ids))))
    now = SystemClock().now()
    rows = [
        {"incident_id": i, "type": "ipv4", "value": HOT, "sources": ["description"],
         "tlp": "TLP:AMBER", "created_at": now, "origin_incident_id": None}
        for i in sorted(chosen)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(IncidentObservable), rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    print(f"hot indicator {HOT} now on {len(chosen):,} incidents")


def run(args: argparse.Namespace) -> int:
    with bench.bench_database(args.database_url) as url, tempfile.TemporaryDirectory() as inst:
        backend = make_url(url).get_backend_name()
        password, seconds = bench.populate(url, args.incidents, args.seed)
        print(f"backend {backend}: {args.incidents:,} incidents generated in {seconds:.1f} s")
        settings = {"database_url": url, "instance_dir": Path(inst), "secret_key": "b" * 40}
        app = create_app({**settings, **bench.NO_MFA})
        recorder = bench.Recorder()
        event.listen(Engine, "before_cursor_execute", recorder)
        client = app.test_client()
        bench.sign_in(client, password)
        engine = make_engine(url)
        page = newest_open(engine, 50)
        file_path = f"/incidents/{page[0][1]}"
        results: list[Any] = []

        def measure(name: str, path: str) -> None:
            scenario = bench.Scenario(name, path)
            results.append(bench.measure(client, engine, recorder, scenario, args.repeat))

        measure("queue: default page (campaign flags)", DEFAULT_PAGE)
        measure("file: newest open incident", file_path)
        make_hot(engine, [i for i, _ in page], args.hot, args.seed)
        measure(f"queue: default page, hot value ×{args.hot}", DEFAULT_PAGE)
        measure(f"file: holding the hot value ×{args.hot}", file_path)
        engine.dispose()
        print(f"{args.repeat} requests each; server time through the test client vs raw SQL")
        for r in results:
            print(
                f"{r.name[:44]:44} {statistics.median(r.app_ms):>6.1f}ms"
                f" {bench.percentile(r.app_ms, 0.95):>6.1f}ms"
                f" SQL {statistics.median(r.sql_ms):>6.1f}ms  {r.statements} queries"
            )
            p95 = bench.percentile(r.app_ms, 0.95)
            emit(
                f"connections: {r.name}, {args.incidents:,} incidents (p95)",
                backend,
                p95,
                "ms",
                f"≤ {bench.TARGET_MS:.0f} ms",
                p95 <= bench.TARGET_MS,
                baseline=bench.percentile(r.sql_ms, 0.95),
                note="baseline: the same SQL replayed alone; target: the lists' (issue 17)",
            )
        return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--hot", type=int, default=5_000, help="incidents holding the hot value")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help="postgresql+psycopg:// URL (a temporary schema)")
    add_option(parser)
    args = parser.parse_args(argv)
    enable(args.json)
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args(None)))
