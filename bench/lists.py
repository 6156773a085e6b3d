"""How fast MISP events and blocklists are parsed (no database): per-value cost of
:func:`feeds.rules.misp.parse_event` and :func:`feeds.rules.blocklist.parse_list` on generated
documents of ``--count`` values, printed with the floor of reading the same document (``orjson``
for the event, splitting lines for the list) from the same run.

    .venv/bin/python bench/lists.py [--count 100000] [--repeat 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # see bench/intake.py: keep this directory off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import functools  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402

import orjson  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from feeds.rules.blocklist import parse_list  # noqa: E402
from feeds.rules.misp import parse_event  # noqa: E402

TYPES = ("ip-dst", "domain", "url", "sha256")


def _misp_value(kind: str, n: int) -> str:
    return {
        "ip-dst": f"198.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
        "domain": f"c2-{n}.evil.example",
        "url": f"http://evil{n}.example/gate.php?id={n}",
        "sha256": f"{n:064x}",
    }[kind]


def event(count: int) -> bytes:
    attributes = [
        {
            "uuid": str(uuid.UUID(int=n + 1)),
            "type": TYPES[n % 4],
            "value": _misp_value(TYPES[n % 4], n),
            "to_ids": True,
            "timestamp": "1796000000",
        }
        for n in range(count)
    ]
    tags = [{"name": "tlp:amber"}, {"name": 'misp-galaxy:threat-actor="Sofacy"'}]
    return orjson.dumps({"Event": {"info": "bench", "Tag": tags, "Attribute": attributes}})


def lists(count: int) -> dict[str, tuple[str, str | None, int, str | None]]:
    """name → (text, value_type, column, delimiter)"""
    ips = "\n".join(f"198.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(count))
    urls = "\n".join(f"http://evil{n}.example/bins/x{n}.sh" for n in range(count))
    rows = "\n".join(
        f'"{n}","2026-12-01 10:00:00","http://evil{n}.example/i","online"' for n in range(count)
    )
    return {
        "text, IPv4, guessed": (ips, None, 1, None),
        "text, URLs, guessed": (urls, None, 1, None),
        "CSV, URLs, --type url --column 3": (rows, "url", 3, ","),
    }


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    add_option(parser)
    args = parser.parse_args()
    enable(args.json)
    n = args.count
    print(f"{'document':36} {'parse s':>8} {'µs/value':>9} {'floor s':>8}")
    doc = event(n)
    parsed = parse_event(doc)
    assert len(parsed.indicators) == n, parsed.rejections[:3]
    seconds = best(args.repeat, lambda: parse_event(doc))
    floor = best(args.repeat, lambda: orjson.loads(doc))
    print(f"{'MISP event, 4 types':36} {seconds:8.2f} {seconds / n * 1e6:9.1f} {floor:8.2f}")
    _emit("MISP event, 4 types", n, seconds, floor)
    for name, (text, kind, column, delimiter) in lists(n).items():
        run = functools.partial(
            parse_list, text, value_type=kind, column=column, delimiter=delimiter
        )
        assert len(run().indicators) == n
        seconds = best(args.repeat, run)
        floor = best(args.repeat, functools.partial(text.split, "\n"))
        print(f"{name:36} {seconds:8.2f} {seconds / n * 1e6:9.1f} {floor:8.2f}")
        _emit(name, n, seconds, floor)


def _emit(name: str, n: int, seconds: float, floor: float) -> None:
    emit(
        f"parse {name}: {n:,} values (µs a value, best of runs)",
        "none",
        seconds / n * 1e6,
        "µs",
        "none set",
        None,
        baseline=floor / n * 1e6,
        note="baseline: reading the same document (orjson.loads / str.split)",
    )


if __name__ == "__main__":
    main()
