"""The one table of ``bench/run_all.py`` (markdown): a row per result, then the time each script
took and a count of the targets met and missed."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HEADER = ("work", "backend", "Vigie", "baseline (same run)", "ratio", "target", "met")
VERDICT = {True: "yes", False: "**NO**", None: "—"}


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def row(result: dict[str, Any]) -> tuple[str, ...]:
    unit = result.get("unit") or ""
    ratio = result.get("ratio")
    return (
        str(result["work"]),
        str(result["backend"]),
        number(result.get("figure"), unit),
        number(result.get("baseline"), unit),
        "—" if ratio is None else f"{ratio:.2f}",
        str(result.get("target") or "—"),
        VERDICT[result.get("met")],
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _commit() -> str:
    try:
        found = subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=Path(__file__).resolve().parent, capture_output=True, text=True, check=False,
        )  # fmt: skip
    except OSError:
        return "?"
    return found.stdout.strip() or "?"


def markdown(
    results: Sequence[dict[str, Any]],
    timings: Sequence[tuple[str, str, float]],
    total: float,
    *,
    quick: bool,
) -> str:
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    kind = "QUICK smoke run (smaller counts: not the targets' volumes)" if quick else "full run"
    spent = f"{total / 60:.1f} min in all"
    if not timings:
        kind, spent = "assembled from earlier runs' results (--table-from)", "see each run"
    lines = [
        f"# Bench table — {kind}",
        "",
        f"{when}, commit {_commit()}, {os.cpu_count()} CPUs, load average at the end {load}; "
        f"{spent}. Ratios compare figures of the same run.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row(r)) + " |" for r in results]
    met = sum(1 for r in results if r.get("met") is True)
    missed = [r for r in results if r.get("met") is False]
    lines += ["", f"Targets met: {met}; missed: {len(missed)}; no target: "
              f"{sum(1 for r in results if r.get('met') is None)}."]  # fmt: skip
    seen: set[str] = set()
    notes = []
    for r in results:  # the first row of each script, and every row missed
        first = r.get("script", r["work"]) not in seen
        seen.add(r.get("script", r["work"]))
        if r.get("note") and (first or r.get("met") is False):
            notes.append(f"* {r['work']} ({r['backend']}): {r['note']}")
    if notes:
        lines += ["", "Notes (each script's first row, and every row missed):", "", *notes]
    lines += ["", "Time per script: " + ", ".join(
        f"{name}/{backend} {seconds / 60:.1f} min" for name, backend, seconds in timings
    ), ""]  # fmt: skip
    return "\n".join(lines)
