"""Retro-hunt at volume: 100,000 new indicators against the observables of 100,000 incidents.

Builds the throw-away database of ``bench/queue.py`` (the demo accounts, then
:func:`incidents.demo.synthetic.generate_incidents`, as ``cert demo --incidents N`` does: two
observables per incident over two years), then one feed run storing ``--indicators`` new
indicators through the real store (:func:`feeds.index.store.store_records`) with its
``feed.indicators_changed`` event. The indicators mix what a real feed brings: mostly values
no incident holds (addresses, domains, URLs, SHA-256), plus values some incidents hold
(``--exact``), ``/24`` networks around observed addresses (``--networks``) and the hosts of
observed URLs (``--hosts``; the synthetic domains have no sub-domains, so no parent-domain hit,
but the in-memory pass computes every domain's parents all the same).

Then the scheduler's dispatcher delivers the event to the ``intel.retrohunt`` handler alone
(:func:`core.events.deliver_events`): the window covers every incident (``--days``, default
3,650), so every observable is looked at. Printed: the delivery's time — the whole retro-hunt:
the exact join, the in-memory pass, the sightings, timeline lines, audit rows and events
written — with its counts, beside the raw exact join alone (same statement, same database, same
run) as a floor. Target: ≤ 10 s.

    .venv/bin/python bench/retrohunt.py
    .venv/bin/python bench/retrohunt.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/retrohunt.py --incidents 20000 --indicators 20000
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
import datetime as dt  # noqa: E402
import importlib.util  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

_spec = importlib.util.spec_from_file_location("vigie_bench_queue", HERE / "queue.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)

from bench.emit import add_option, emit, enable  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from core.events import Event, deliver_events, record_event  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from core.markings import Tlp  # noqa: E402
from core.uow import transaction  # noqa: E402
from feeds.events import FeedEventName, IndicatorsChanged  # noqa: E402
from feeds.index.store import store_records  # noqa: E402
from feeds.models import Feed, FeedKind, FeedRun, RunStatus, RunTrigger  # noqa: E402
from feeds.rules.keys import index_value  # noqa: E402
from feeds.rules.records import IndicatorRecord, Parsed  # noqa: E402
from incidents.intel import handlers, retrohunt  # noqa: E402
from incidents.intel import hunting as hunting_module  # noqa: E402
from incidents.intel.models import IncidentMatch  # noqa: E402
from incidents.models import IncidentObservable  # noqa: E402
from incidents.settings import IntakeSettings  # noqa: E402

TARGET_S = 10.0
ACTOR = Actor.system("bench:retrohunt")


def observed(url: str, seed: int) -> dict[str, list[str]]:
    """The observables' values by type (to aim some indicators at them)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(IncidentObservable.type, IncidentObservable.value)).all()
    finally:
        engine.dispose()
    by_type: dict[str, list[str]] = {}
    for kind, value in rows:
        by_type.setdefault(kind, []).append(value)
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    for values in by_type.values():
        rng.shuffle(values)
    return by_type


def indicators(args: argparse.Namespace, seen: dict[str, list[str]]) -> list[IndicatorRecord]:
    """``--indicators`` records: exact hits, networks and parents aimed at observables, the
    rest values no incident holds."""
    rng = random.Random(args.seed)  # noqa: S311 - synthetic data
    values: list[tuple[str, str]] = []
    hits = [(k, v) for k in ("ipv4", "domain", "url", "sha256", "email") for v in seen.get(k, [])]
    rng.shuffle(hits)
    values += hits[: args.exact]
    for address in seen.get("ipv4", [])[: args.networks]:
        values.append(("ipv4", address.rsplit(".", 1)[0] + ".0/24"))
    # the synthetic domains have no sub-domains: hosts of observed URLs, met as URL hosts (the
    # in-memory pass still computes every domain's parents)
    values += [("domain", u.split("/")[2]) for u in seen.get("url", [])[: args.hosts]]
    while len(values) < args.indicators:
        n = len(values)
        kind = ("ipv4", "domain", "url", "sha256")[n % 4]
        if kind == "ipv4":
            value = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        elif kind == "domain":
            value = f"bench-{n}.invalid-intel.example"
        elif kind == "url":
            value = f"https://bench-{n}.invalid-intel.example/gate.php"
        else:
            value = f"{rng.getrandbits(256):064x}"
        values.append((kind, value))
    return [
        IndicatorRecord(source_ref=f"bench--{i}", values=(index_value(kind, value),), name=value)
        for i, (kind, value) in enumerate(dict.fromkeys(values))
    ]


def arrive(url: str, records: list[IndicatorRecord], chunk: int) -> tuple[float, int]:
    """One feed run storing ``records`` and recording its event; seconds and new indicators.

    Stored ``chunk`` records per transaction, the planner's statistics refreshed between them
    (``ANALYZE``): on PostgreSQL, ``store_records``' per-batch look-ups of a table that grew by
    100,000 rows inside one transaction turn into sequential scans (minutes). The event covers
    the whole run (``since`` = its start), as one transaction's would."""
    engine = make_engine(url)
    clock = SystemClock()
    factory = make_session_factory(engine)
    try:
        with transaction(factory, write=True) as session:
            started = clock.now()
            feed = Feed(
                name="bench-feed", kind=FeedKind.FILE, default_tlp=Tlp.AMBER, created_at=started
            )
            session.add(feed)
            session.flush()
            run = FeedRun(
                feed_id=feed.id,
                trigger=RunTrigger.IMPORT,
                status=RunStatus.SUCCEEDED,
                started_at=started,
            )
            session.add(run)
            session.flush()
            feed_id, run_id = feed.id, run.id
        new = updated = 0
        t0 = time.perf_counter()
        for start in range(0, len(records), chunk):
            with transaction(factory, write=True) as session:
                feed = session.get_one(Feed, feed_id)
                part = Parsed("bench", indicators=records[start : start + chunk])
                counts = store_records(session, feed, part, now=started)
                new, updated = new + counts.new, updated + counts.updated
            with engine.begin() as conn:
                conn.execute(text("ANALYZE indicators"))
                conn.execute(text("ANALYZE indicator_values"))
        elapsed = time.perf_counter() - t0
        with transaction(factory, write=True) as session:
            payload = IndicatorsChanged(
                feed_id=feed_id, run_id=run_id, since=started, new=new, updated=updated
            )
            event = Event.of(
                FeedEventName.INDICATORS_CHANGED, payload, aggregate=("feed", feed_id), actor=ACTOR
            )
            record_event(session, event, clock=clock)
    finally:
        engine.dispose()
    return elapsed, new


def exact_floor(url: str, days: int) -> tuple[float, int]:
    """The raw exact join alone (the statement :func:`retrohunt.hunt` runs first)."""
    engine = make_engine(url)
    now = SystemClock().now()
    try:
        with transaction(make_session_factory(engine)) as session:
            feed_id = session.scalar(select(Feed.id).where(Feed.name == "bench-feed"))
            assert feed_id is not None
            since = now - dt.timedelta(days=1)
            changed = retrohunt._changed(feed_id, since, now)  # noqa: SLF001 - the same statement
            t0 = time.perf_counter()
            rows = list(retrohunt._exact(session, changed, now - dt.timedelta(days=days)))  # noqa: SLF001
            return time.perf_counter() - t0, len(rows)
    finally:
        engine.dispose()


class Phases:
    """Time spent in each step of :func:`retrohunt.hunt` (its module's functions, wrapped)."""

    STEPS = ("_new_values", "_exact", "_window", "indirect", "_known", "_record", "record_matches")

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> Phases:
        self._saved = {}
        for name in self.STEPS:
            owner = hunting_module if name == "indirect" else retrohunt
            if not hasattr(owner, name):
                continue
            original = getattr(owner, name)
            self._saved[(owner, name)] = original
            setattr(
                retrohunt if name != "indirect" else hunting_module,
                name,
                self._timed(name, original),
            )
        return self

    def _timed(self, name: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            result = fn(*args, **kwargs)
            if hasattr(result, "__next__"):  # a generator: drain it inside the clock
                result = list(result)
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
            return result

        return timed

    def __exit__(self, *exc: object) -> None:
        for (owner, name), original in self._saved.items():
            setattr(owner, name, original)


def deliver(url: str, days: int) -> tuple[float, dict[str, int], int, int]:
    """The event delivered to ``intel.retrohunt`` alone, with a window of ``days`` (the slice's
    settings, as the scheduler hands them over); seconds, counts, matches, incidents."""
    settings = {"incidents": IntakeSettings(retrohunt_window=dt.timedelta(days=days))}
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        with Phases() as phases:
            t0 = time.perf_counter()
            counts = deliver_events(
                factory, handlers.HANDLERS, clock=SystemClock(), settings=settings
            )
            elapsed = time.perf_counter() - t0
        print("  steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.seconds.items()))
        with transaction(factory) as session:
            matches = session.scalar(select(func.count()).select_from(IncidentMatch)) or 0
            incidents = (
                session.scalar(select(func.count(func.distinct(IncidentMatch.incident_id)))) or 0
            )
    finally:
        engine.dispose()
    return elapsed, counts, matches, incidents


def run(args: argparse.Namespace) -> int:
    with bench.bench_database(args.database_url) as url:
        backend = make_url(url).get_backend_name()
        _, seconds = bench.populate(url, args.incidents, args.seed)
        print(f"backend {backend}: {args.incidents:,} incidents generated in {seconds:.1f} s")
        records = indicators(args, observed(url, args.seed))
        stored, new = arrive(url, records, args.chunk)
        print(
            f"{new:,} new indicators stored in {stored:.1f} s (feeds.index.store, "
            f"{args.chunk:,} per transaction)"
        )
        elapsed, counts, matches, incidents = deliver(url, args.days)
        floor, exact = exact_floor(url, args.days)
        verdict = "OK" if elapsed <= TARGET_S and counts["delivered"] == 1 else "ABOVE TARGET"
        print(
            f"retro-hunt (events.deliver → intel.retrohunt): {elapsed:.2f} s, "
            f"{matches:,} new sightings on {incidents:,} incidents; deliveries {counts}"
        )
        print(f"raw exact join alone: {floor:.2f} s ({exact:,} rows)")
        print(f"target ≤ {TARGET_S:.0f} s: {verdict}")
        emit(
            f"retro-hunt: {new:,} new indicators vs {args.incidents:,} incidents",
            backend,
            elapsed,
            "s",
            f"≤ {TARGET_S:.0f} s",
            verdict == "OK",
            baseline=floor,
            note=f"baseline: the raw exact join alone; {matches:,} sightings",
        )
        return 1 if args.strict and verdict != "OK" else 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--indicators", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--exact", type=int, default=1_000, help="values incidents hold (1,000)")
    parser.add_argument("--networks", type=int, default=200, help="/24 around observed addresses")
    parser.add_argument("--hosts", type=int, default=200, help="hosts of observed URLs (200)")
    parser.add_argument(
        "--chunk", type=int, default=10_000, help="indicators stored per transaction (10,000)"
    )
    parser.add_argument("--days", type=int, default=3650, help="the window (default 3,650)")
    parser.add_argument("--seed", type=int, default=2026, help="generator seed (default 2026)")
    parser.add_argument("--database-url", help="postgresql+psycopg:// URL (a temporary schema)")
    parser.add_argument("--strict", action="store_true", help="exit 1 above the target")
    add_option(parser)
    args = parser.parse_args(argv)
    enable(args.json)
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args(None)))
