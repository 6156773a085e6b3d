"""Several worker processes (gunicorn): prometheus-client's multiprocess mode.

Each worker writes its counters and histograms to memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR``; a scrape, whichever worker answers it, adds every process's files
up. ``cert web`` prepares the directory (:func:`prepare`) before the workers start and marks each
dead worker (:func:`mark_dead`) so that its live-only values go. Without the variable (``cert
run``, tests) the values live in the process and the application's registry holds them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess, values

ENV = "PROMETHEUS_MULTIPROC_DIR"


def directory() -> Path | None:
    """The multiprocess directory in use, if any."""
    raw = os.environ.get(ENV)
    return Path(raw) if raw else None


def prepare() -> tuple[Path, bool]:
    """Use ``PROMETHEUS_MULTIPROC_DIR`` (emptied of an earlier run's files) or make a private
    temporary directory (mode 0700) and set the variable; return it and whether it was made
    here (then :func:`remove` it at exit). Values created from now on go to its files."""
    given = directory()
    if given is None:
        path, made = Path(tempfile.mkdtemp(prefix="vigie-metrics-")), True
        os.environ[ENV] = str(path)
    else:
        path, made = given, False
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):  # a previous server's workers: their pids are gone
            old.unlink()
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call] # prometheus_client may be imported already
    return path, made


def remove(path: Path) -> None:
    for child in path.glob("*.db"):
        child.unlink(missing_ok=True)
    path.rmdir()


def mark_dead(pid: int) -> None:
    """A worker exited: drop its live-only gauge files (counters and histograms stay summed)."""
    if directory() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def scrape_registry() -> tuple[CollectorRegistry, bool]:
    """A registry for one application and whether it is multiprocess: it then reads every
    process's files, and in-process metrics must be created with ``registry=None``."""
    registry = CollectorRegistry()  # no auto-describe: registering never queries
    if directory() is None:
        return registry, False
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry, True
