"""The machine-readable output of the bench scripts (``--json``), read by ``bench/run_all.py``.

A script keeps printing its human output; with ``--json`` it also prints one line per result,
``{"work", "backend", "figure", "unit", "baseline", "ratio", "target", "met", "note"}``, prefixed
by :data:`PREFIX` so that the runner tells it from the human lines. ``figure`` is Vigie's
measure, ``baseline`` what the script measured in the same run to compare it with (or ``None``),
``ratio`` figure / baseline unless the script says otherwise in ``note``, ``target`` the target
in words ("≤ 150 ms p95") and ``met`` whether it is met.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

PREFIX = "BENCH-RESULT "
_state = {"enabled": False}


def add_option(parser: argparse.ArgumentParser) -> None:
    """``--json``: also print one machine-readable line per result (see this module)."""
    parser.add_argument(
        "--json", action="store_true", help="also print one JSON result per line (bench/run_all)"
    )


def enable(on: bool) -> None:
    _state["enabled"] = on


def emit(
    work: str,
    backend: str,
    figure: float,
    unit: str,
    target: str,
    met: bool | None,
    *,
    baseline: float | None = None,
    ratio: float | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One result; printed as a JSON line when ``--json`` was given. ``ratio`` defaults to
    figure / baseline; ``met`` is ``None`` where no earlier issue set a target."""
    if ratio is None and baseline:
        ratio = figure / baseline
    result = {
        "work": work,
        "backend": backend,
        "figure": round(figure, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "met": None if met is None else bool(met),
        "note": note,
    }
    if _state["enabled"]:
        print(PREFIX + json.dumps(result, ensure_ascii=False), flush=True)
        sys.stdout.flush()
    return result
