"""A burst of 1,000 ransomware reports, each starting its playbook with the first steps done.

On a throw-away migrated database (``bench/intake.py``'s), a ministry and its reporter, and a
ransomware-like CACAO playbook (start → manual "isolate" → manual "identify the strain" →
manual "restore" → end) imported through the real service, with a trigger on ``created`` for
the class ``malicious-code``. Then:

1. **Burst** — a scheduler process (spawned: the web and the scheduler are separate processes
   in production) runs the real jobs' functions as APScheduler would — every interval, one
   instance at a time, a missed tick skipped: ``events.deliver`` (``CERT_EVENTS_INTERVAL``,
   5 s) and, once the engine is there, ``playbooks.advance`` (``CERT_PLAYBOOKS_INTERVAL``).
   The main process submits ``--count`` reports through the real intake service
   (:func:`incidents.intake.service.submit_incident`, one transaction each, as the API does).
   Measured from the first submission until every incident's run has its first manual task
   (without the engine: until every run exists — the events part only). Target: ≤ 30 s.
2. **Checks** — one run per incident, none lost or doubled: runs == incidents == ``--count``,
   distinct incidents == ``--count``, step rows unique per (run, seq), one first task per run.
3. **Alone** (the baseline, same run, same database) — ``--count`` more reports with no job
   running (the intake alone), then the events delivery alone, each handler timed (cost per
   event), then, with the engine, ``playbooks.advance`` alone.

    .venv/bin/python bench/playbooks.py
    .venv/bin/python bench/playbooks.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/playbooks.py --time-slice 0     # events.deliver as before: one batch
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # keep sibling scripts (bench/queue.py) off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import copy  # noqa: E402
import multiprocessing  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import distinct, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.intake_setup import bench_database  # noqa: E402
from bench.playbook_load import prepare, submit  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.config import Config, load_config  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from core.events import Event, Handler, deliver_events  # noqa: E402
from feeds.index import benign  # noqa: E402
from incidents.models import Incident  # noqa: E402
from playbooks.models import (  # noqa: E402
    PlaybookRun,
    PlaybookStepRun,
)

TARGET_S = 30.0
ADVANCE = "playbooks.advance"


# --------------------------------------------------------------------------- the scheduler
def scheduler_process(
    url: str, intervals: Mapping[str, int], time_slice: float | None, stop: Any, out: Any
) -> None:
    """The jobs' real functions on the scheduler's own context, each in a thread of its own,
    every interval, one instance at a time (APScheduler's coalesce and max_instances=1)."""
    from cert import scheduler  # noqa: PLC0415 - in the spawned process

    if time_slice is not None:
        scheduler.adapters.EVENTS_TIME_SLICE_SECONDS = time_slice
    with tempfile.TemporaryDirectory(prefix="vigie-bench-sched-") as instance:
        config = load_config(
            {
                "database_url": url,
                "instance_dir": Path(instance),
                "secret_key": "b" * 40,
                "events_interval_seconds": intervals["events"],
                "playbooks_interval_seconds": intervals["playbooks"],
            },
            environ={},
        )
        context = scheduler.open_context(config)
        jobs = [j for j in ("events.deliver", ADVANCE) if j in scheduler.JOBS]
        threads = [
            threading.Thread(target=_tick, args=(scheduler.JOBS[j], context, config, stop, out))
            for j in jobs
        ]
        for thread in threads:
            thread.start()
        out.put(("ready", jobs))
        for thread in threads:
            thread.join()
        scheduler.close_context()


def _tick(job: Any, context: Any, config: Any, stop: Any, out: Any) -> None:
    interval, body_of = job.interval_seconds(config), job.resolve()
    origin = due = time.monotonic()
    while not stop.is_set():
        wait = due - time.monotonic()
        if wait > 0:
            stop.wait(wait)
            continue
        t0 = time.time()
        counts = dict(body_of(context))
        t1 = time.time()
        out.put(("job", job.job_id, t0, t1, counts))
        elapsed = time.monotonic() - origin
        due = origin + (int(elapsed // interval) + 1) * interval  # missed ticks skipped


# --------------------------------------------------------------------------- measures
def progress(session: Session) -> tuple[int, int, int]:
    """(runs, distinct incidents with a run, runs with a first task)."""
    runs = session.scalar(select(func.count()).select_from(PlaybookRun)) or 0
    incidents = session.scalar(select(func.count(distinct(PlaybookRun.incident_id)))) or 0
    first = select(func.count(distinct(PlaybookStepRun.run_id)))
    tasks = session.scalar(first.where(PlaybookStepRun.task_id.is_not(None))) or 0
    return runs, incidents, tasks


def checks(session: Session, expected: int) -> list[str]:
    """What is wrong with the runs (empty: none lost or doubled)."""
    runs, incidents, _ = progress(session)
    reports = session.scalar(select(func.count()).select_from(Incident)) or 0
    wrong = []
    if not runs == incidents == reports == expected:
        wrong.append(f"runs {runs}, incidents with a run {incidents}, reports {reports}")
    step = PlaybookStepRun
    repeated = _groups_over_one(session, select(step.run_id).group_by(step.run_id, step.seq))
    if repeated:
        wrong.append(f"{repeated} (run, seq) recorded more than once")
    tasks = select(step.run_id).where(step.task_id.is_not(None)).group_by(step.run_id)
    if doubled := _groups_over_one(session, tasks):
        wrong.append(f"{doubled} runs with more than one task")
    return wrong


def _groups_over_one(session: Session, grouped: Any) -> int:
    over = grouped.having(func.count() > 1).subquery()
    return session.scalar(select(func.count()).select_from(over)) or 0


def burst(url: str, args: argparse.Namespace, engine_there: bool) -> tuple[float, list[Any]]:
    """The burst with the scheduler process running; (seconds to done, the job runs)."""
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    intervals = {"events": args.events_interval, "playbooks": args.playbooks_interval}
    child = ctx.Process(target=scheduler_process, args=(url, intervals, args.time_slice, stop, out))
    child.start()
    _, jobs = out.get(timeout=120)
    print(f"scheduler process: jobs {', '.join(jobs)}")
    results: dict[str, float] = {}

    def submitter() -> None:
        results["t0"], results["intake"] = submit(url, "burst", args.count)

    thread = threading.Thread(target=submitter)
    thread.start()
    engine = make_engine(url)
    done_at, marks = None, {}
    deadline = time.perf_counter() + args.timeout
    while time.perf_counter() < deadline:
        time.sleep(0.2)
        with make_session_factory(engine)() as session:
            runs, _, tasks = progress(session)
        now = time.perf_counter()
        if runs >= args.count and "runs" not in marks:
            marks["runs"] = now
        if tasks >= args.count and "tasks" not in marks:
            marks["tasks"] = now
        if "runs" in marks and (not engine_there or "tasks" in marks):
            done_at = now
            break
    thread.join()
    stop.set()
    job_runs = []
    while child.is_alive() or not out.empty():
        try:
            job_runs.append(out.get(timeout=1))
        except Exception:  # noqa: BLE001 - queue.Empty once the child is gone
            if not child.is_alive():
                break
    child.join(timeout=60)
    engine.dispose()
    t0 = results["t0"]
    print(f"  submissions: {results['intake']:.1f} s ({args.count / results['intake']:.0f}/s)")
    for mark, at in marks.items():
        print(f"  every run {'exists' if mark == 'runs' else 'has its first task'}: "
              f"{at - t0:.1f} s after the first submission")  # fmt: skip
    return (done_at - t0) if done_at else float("inf"), job_runs


class Timed:
    """Each handler's own time (its ``fn``), beside the whole delivery's."""

    def __init__(self, handlers: tuple[Handler, ...]) -> None:
        self.seconds: dict[str, float] = {h.name: 0.0 for h in handlers}
        self.handlers = [self._wrap(h) for h in handlers]

    def _wrap(self, handler: Handler) -> Handler:
        """The same handler (name, events, settings it takes) with its ``fn`` timed."""
        fn, name = handler.fn, handler.name

        def timed(session: Session, event: Event, *settings: Any) -> None:
            t0 = time.perf_counter()
            fn(session, event, *settings)
            self.seconds[name] += time.perf_counter() - t0

        wrapped = copy.copy(handler)
        object.__setattr__(wrapped, "fn", timed)
        return wrapped


def alone(url: str, args: argparse.Namespace, engine_there: bool) -> float:
    """The baseline: the intake alone, then the delivery alone, then the engine alone; the
    intake's seconds."""
    from cert import event_handlers, scheduler  # noqa: PLC0415
    from cert.slices_list import SLICES  # noqa: PLC0415

    _, intake = submit(url, "alone", args.count)
    print(f"intake alone: {args.count:,} reports in {intake:.1f} s ({args.count / intake:.0f}/s)")
    engine = make_engine(url)
    factory, clock = make_session_factory(engine), SystemClock()
    timed = Timed(event_handlers.HANDLERS)
    settings = {s.name: s.settings(Config()) for s in SLICES if s.settings is not None}
    totals = {"dispatched": 0, "delivered": 0}
    t0 = time.perf_counter()
    while True:  # batches of 100, back to back
        counts = deliver_events(factory, timed.handlers, clock=clock, settings=settings)
        totals = {k: totals[k] + counts[k] for k in totals}
        if not counts["dispatched"] and not counts["delivered"]:
            break
    delivery = time.perf_counter() - t0
    n = args.count
    print(
        f"events delivery alone: {n:,} events, {totals['delivered']:,} deliveries in "
        f"{delivery:.1f} s = {1000 * delivery / n:.1f} ms an event, "
        f"{1000 * delivery / max(totals['delivered'], 1):.2f} ms a delivery"
    )
    for name, seconds in sorted(timed.seconds.items(), key=lambda kv: -kv[1]):
        if seconds:
            print(f"  handler {name}: {1000 * seconds / n:.2f} ms an event")
    batches = totals["delivered"] / 100
    print(
        f"  one batch of 100 deliveries every {args.events_interval} s (before): "
        f"{batches * args.events_interval:.0f} s for these {n:,} events"
    )
    if engine_there:
        with tempfile.TemporaryDirectory(prefix="vigie-bench-sched-") as instance:
            config = load_config(
                {"database_url": url, "instance_dir": Path(instance), "secret_key": "b" * 40},
                environ={},
            )
            context = scheduler.open_context(config)
            body_of = scheduler.JOBS[ADVANCE].resolve()
            t0 = time.perf_counter()
            with factory() as session:  # runs with their first task: the burst's, then these
                while progress(session)[2] < 2 * n and time.perf_counter() - t0 < args.timeout:
                    body_of(context)
                    session.rollback()  # a new read: SQLite would keep its first snapshot
            print(f"playbooks.advance alone: {time.perf_counter() - t0:.1f} s for {n:,} runs")
            scheduler.close_context()
    engine.dispose()
    return intake


def run(args: argparse.Namespace) -> int:
    from cert import scheduler  # noqa: PLC0415 - registers every slice's jobs

    engine_there = ADVANCE in scheduler.JOBS
    benign.preload()
    with bench_database(args.database_url) as url:
        prepare(url)
        backend = make_engine(url).dialect.name
        what = "first task" if engine_there else "run created (no engine: the events part only)"
        print(f"backend {backend}: a burst of {args.count:,} ransomware reports → {what}")
        elapsed, job_runs = burst(url, args, engine_there)
        for _, job_id, t0, t1, counts in (j for j in job_runs if j[0] == "job"):
            if any(counts.values()):
                print(f"  {job_id}: {t1 - t0:.1f} s {counts}")
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            wrong = checks(session, args.count)
        engine.dispose()
        verdict = "OK" if elapsed <= TARGET_S and not wrong else "ABOVE TARGET"
        print(f"burst done in {elapsed:.1f} s; target ≤ {TARGET_S:.0f} s: {verdict}")
        print("no run lost or doubled" if not wrong else "WRONG: " + "; ".join(wrong))
        intake = None if args.skip_alone else alone(url, args, engine_there)
    emit(
        f"playbooks: a burst of {args.count:,} reports, each run at its first task",
        backend,
        elapsed,
        "s",
        f"≤ {TARGET_S:.0f} s, none lost or doubled",
        verdict == "OK",
        baseline=intake,
        note="baseline: the same submissions alone, no job running"
        + ("" if not wrong else "; WRONG: " + "; ".join(wrong)),
    )
    return 1 if args.strict and verdict != "OK" else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="postgresql+psycopg://… (default: SQLite)")
    parser.add_argument("--count", type=int, default=1000, help="reports in the burst (1,000)")
    parser.add_argument("--events-interval", type=int, default=5, help="CERT_EVENTS_INTERVAL")
    parser.add_argument("--playbooks-interval", type=int, default=5, help="CERT_PLAYBOOKS_INTERVAL")
    parser.add_argument(
        "--time-slice", type=float, help="events.deliver's time slice, s (0: one batch a run)"
    )
    parser.add_argument("--timeout", type=float, default=300, help="give up after (300 s)")
    parser.add_argument("--skip-alone", action="store_true", help="the burst only")
    parser.add_argument("--strict", action="store_true", help="exit 1 above the target")
    add_option(parser)
    args = parser.parse_args()
    enable(args.json)
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args()))
