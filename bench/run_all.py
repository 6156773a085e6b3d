"""``make bench``: every bench script on both databases, one table.

Runs each script of :data:`bench.run_jobs.JOBS` with ``--json`` (SQLite, and PostgreSQL in
temporary schemas of ``--database-url``; the 1,000,000-incident queue in the kept schema
``--schema-1m``), keeps each script's human output in a log beside the table (the results too,
as they come, in a ``.jsonl`` file), collects the ``BENCH-RESULT`` lines (:mod:`bench.emit`)
and prints one table: work, backend, Vigie's figure,
the baseline measured in the same run, their ratio, the target and whether it is met. The queue
at 1M is compared with the same request at 100k on PostgreSQL (ratio 1M / 100k, "nearly flat").
The table is written to ``--output`` (default ``bench/results.md``).

Exit status 0 even when a target is missed (the table says so), unless ``--strict``: then 1
when a target is missed or a script failed.

    .venv/bin/python bench/run_all.py                      # the full table (≈25 min idle)
    .venv/bin/python bench/run_all.py --quick              # smaller counts: a smoke run
    .venv/bin/python bench/run_all.py --only queue intake_rate --backends postgresql
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # see bench/intake.py: keep this directory off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any, TextIO  # noqa: E402

from bench.emit import PREFIX  # noqa: E402
from bench.run_jobs import FLAT_1M, JOBS, Job, arguments  # noqa: E402
from bench.run_table import markdown  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def run_job(
    job: Job, backend: str, args: argparse.Namespace, log: TextIO
) -> tuple[list[dict[str, Any]], float]:
    """One script on one backend: its results (a failure is a result too) and its seconds."""
    command = [sys.executable, str(HERE / job.script), "--json", *arguments(job, args.quick)]
    if backend == "postgresql":
        command += ["--database-url", args.database_url]
        if job.kept_schema:
            command += ["--schema", args.schema_1m]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "PYTHONUNBUFFERED": "1"}
    shown = " ".join(command[1:])
    print(f"[{_now()}] {job.name} / {backend}: {shown}", file=sys.stderr, flush=True)
    log.write(f"\n===== {job.name} / {backend}: {shown}\n")
    log.flush()
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    try:
        done = subprocess.run(  # noqa: S603 - our own scripts, with our interpreter
            command, cwd=HERE.parent, env=env, capture_output=True, text=True,
            timeout=args.timeout, check=False,
        )  # fmt: skip
        out, err, status = done.stdout, done.stderr, str(done.returncode)
    except subprocess.TimeoutExpired as expired:
        out = _text(expired.stdout)
        err, status = _text(expired.stderr), f"timed out after {args.timeout:.0f} s"
    seconds = time.perf_counter() - started
    for line in out.splitlines():
        if line.startswith(PREFIX):
            results.append(json.loads(line[len(PREFIX) :]))
        else:
            log.write(line + "\n")
    errors = [line for line in err.splitlines() if '"logger": "vigie.access"' not in line]
    log.write("\n".join(errors[-60:]) + f"\n----- exit {status}, {seconds:.0f} s\n")
    log.flush()
    if status != "0" and not results:
        last = next((line for line in reversed(errors) if line.strip()), "no output")
        results.append(_failure(job, backend, status, last))
    for result in results:
        result.setdefault("script", job.script)
    return results, seconds


def _failure(job: Job, backend: str, status: str, last: str) -> dict[str, Any]:
    return {
        "work": f"{job.script} FAILED", "backend": backend, "figure": None, "unit": "",
        "baseline": None, "ratio": None, "target": "runs", "met": False,
        "note": f"exit {status}: {last[:160]}", "script": job.script,
    }  # fmt: skip


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%H:%M:%S")


def flatten_1m(results: list[dict[str, Any]]) -> None:
    """The queue at 1M beside the same request at 100k (PostgreSQL): baseline, ratio and the
    verdict (p95 target and ratio ≤ :data:`FLAT_1M`)."""
    at_100k = {
        r["work"].split(": ", 1)[1]: r
        for r in results
        if r["work"].startswith("queue 100k: ") and r["backend"] == "postgresql"
    }
    for r in results:
        if not r["work"].startswith("queue 1M: ") or r["backend"] != "postgresql":
            continue
        before = at_100k.get(r["work"].split(": ", 1)[1])
        if before is None or not before["figure"]:
            continue
        ratio = r["figure"] / before["figure"]
        r["note"] = f"baseline: the 100k p95; SQL replay p95 {r['baseline']} ms; " + r["note"]
        r["baseline"], r["ratio"] = before["figure"], round(ratio, 3)
        r["target"] += f", ≤ {FLAT_1M}× 100k"
        r["met"] = bool(r["met"]) and ratio <= FLAT_1M


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    timings: list[tuple[str, str, float]] = []
    if args.table_from:  # the table of earlier runs' results (runs cut short, or in parts)
        for path in args.table_from:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
            results += [json.loads(line) for line in lines if line.strip()]
        return _finish(args, output, results, timings, 0.0)
    with (
        output.with_suffix(".log").open("w", encoding="utf-8") as log,
        output.with_suffix(".jsonl").open("w", encoding="utf-8") as kept,
    ):
        for job in JOBS:
            if args.only and job.name not in args.only:
                continue
            if args.quick and job.kept_schema and not args.with_1m:
                continue
            for backend in job.backends:
                if backend != "none" and backend not in args.backends:
                    continue
                found, seconds = run_job(job, backend, args, log)
                results += found
                kept.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in found)
                kept.flush()  # what a run cut short has measured
                timings.append((job.name, backend, seconds))
    return _finish(args, output, results, timings, time.perf_counter() - started)


def _finish(
    args: argparse.Namespace,
    output: Path,
    results: list[dict[str, Any]],
    timings: list[tuple[str, str, float]],
    total: float,
) -> int:
    flatten_1m(results)
    table = markdown(results, timings, total, quick=args.quick)
    print(table)
    output.write_text(table, encoding="utf-8")
    print(f"written to {output} (each script's output: {output.with_suffix('.log')})")
    missed = any(r["met"] is False for r in results)
    return 1 if args.strict and missed else 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller counts: a smoke run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--output", default=str(HERE / "results.md"), help="the table (markdown)")
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"PostgreSQL ({DEFAULT_URL})")
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="default both"
    )
    parser.add_argument(
        "--only", nargs="+", choices=[job.name for job in JOBS], help="only these scripts"
    )
    parser.add_argument(
        "--schema-1m", default="bench_1m",
        help="PostgreSQL schema kept for the 1M queue (built once, reused; default bench_1m)",
    )  # fmt: skip
    parser.add_argument("--with-1m", action="store_true", help="--quick: the 1M queue too")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds a script may take (3600)"
    )
    parser.add_argument(
        "--table-from", nargs="+", metavar="JSONL",
        help="run nothing: the table of the results these .jsonl files of earlier runs hold",
    )  # fmt: skip
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
