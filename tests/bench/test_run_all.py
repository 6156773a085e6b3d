"""``make bench``'s runner (bench/run_all.py): a real run of one cheap script on both databases
(``--quick``), its one table, and how it pairs the queue at 1M with the same request at 100k.
No figure is asserted (timing belongs to the bench, not to the suite): the table's shape is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.emit import PREFIX
from bench.run_all import flatten_1m
from bench.run_table import HEADER, markdown
from tests.dbs import POSTGRES_URL, postgres_or_skip

ROOT = Path(__file__).resolve().parents[2]


def _table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in rows]


@pytest.mark.slow
def test_quick_run_of_one_script_on_both_databases_prints_one_table(tmp_path: Path) -> None:
    postgres_or_skip()
    output = tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, "bench/run_all.py", "--quick", "--only", "enrich",
         "--database-url", POSTGRES_URL, "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    table = output.read_text(encoding="utf-8")
    assert table in done.stdout  # printed and written alike
    header, *rows = _table_rows(table)
    assert header == list(HEADER)
    assert [row[1] for row in rows] == ["sqlite", "postgresql"]
    for work, _backend, figure, baseline, ratio, target, met in rows:
        assert work == "enrich: 1,000 observables vs 3,000 indicators (median)"
        assert figure.endswith(" ms") and baseline.endswith(" ms")
        vigie, base = (float(x.split()[0].replace(",", "")) for x in (figure, baseline))
        assert vigie > 0 and base > 0
        assert float(ratio) == pytest.approx(vigie / base, rel=0.05)
        assert target == "≤ 50 ms"
        assert met == ("yes" if vigie <= 50 else "**NO**")
    log = output.with_suffix(".log").read_text(encoding="utf-8")
    assert "===== enrich / sqlite" in log and "===== enrich / postgresql" in log
    assert PREFIX not in log  # the results went to the table, the human lines to the log
    assert "indicators loaded in" in log
    assert "QUICK smoke run" in table and "Targets met:" in table


@pytest.mark.slow
def test_a_script_that_fails_is_a_missed_row_and_strict_exits_1(tmp_path: Path) -> None:
    output = tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, "bench/run_all.py", "--quick", "--only", "enrich", "--backends",
         "postgresql", "--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/none",
         "--output", str(output), "--strict"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    [_header, row] = _table_rows(output.read_text(encoding="utf-8"))
    assert row[0] == "enrich.py FAILED" and row[1] == "postgresql" and row[-1] == "**NO**"


def _result(work: str, figure: float, baseline: float, met: bool = True) -> dict[str, object]:
    line = json.dumps(
        {"work": work, "backend": "postgresql", "figure": figure, "unit": "ms",
         "baseline": baseline, "ratio": figure / baseline, "target": "≤ 250 ms", "met": met,
         "note": "n", "script": "queue.py"}
    )  # fmt: skip
    result: dict[str, object] = json.loads(line)
    return result


def test_the_queue_at_1m_is_compared_with_the_same_request_at_100k() -> None:
    results = [
        _result("queue 100k: default page (p95)", 40.0, 10.0),
        _result("queue 100k: a search (p95)", 50.0, 20.0),
        _result("queue 1M: default page (p95)", 48.0, 12.0),
        _result("queue 1M: a search (p95)", 120.0, 60.0),  # under 250 ms, but 2.4× the 100k
    ]
    flatten_1m(results)  # type: ignore[arg-type]
    flat, steep = results[2], results[3]
    assert (flat["baseline"], flat["ratio"], flat["met"]) == (40.0, 1.2, True)
    assert (steep["baseline"], steep["ratio"], steep["met"]) == (50.0, 2.4, False)
    assert steep["target"] == "≤ 250 ms, ≤ 1.5× 100k"
    assert "SQL replay p95 60.0 ms" in str(steep["note"])
    table = markdown(results, [("queue", "postgresql", 60.0)], 60.0, quick=False)  # type: ignore[arg-type]
    rows = _table_rows(table)
    assert rows[4] == ["queue 1M: a search (p95)", "postgresql", "120 ms", "50.0 ms", "2.40",
                       "≤ 250 ms, ≤ 1.5× 100k", "**NO**"]  # fmt: skip
    assert "Targets met: 3; missed: 1" in table
