"""What ``bench/run_all.py`` runs: each bench script, on which databases, with which arguments
for the full table and for ``--quick`` (a smoke run: smaller counts, the same code paths).

The full arguments are the scripts' own defaults (the earlier issues' volumes) except where a
script would take several minutes for a figure fewer repetitions give as well: noted below."""

from __future__ import annotations

from dataclasses import dataclass

FLAT_1M = 1.5  # the queue's p95 at 1M / at 100k: "nearly flat" for ten times the rows


@dataclass(frozen=True)
class Job:
    name: str
    script: str
    backends: tuple[str, ...]
    full: tuple[str, ...]
    quick: tuple[str, ...]
    kept_schema: bool = False  # PostgreSQL: ``--schema`` the run's kept 1M schema


BOTH = ("sqlite", "postgresql")

JOBS: tuple[Job, ...] = (
    Job("lists", "lists.py", ("none",), ("--count", "100000", "--repeat", "3"),
        ("--count", "5000", "--repeat", "1")),
    Job("intake_rate", "intake_rate.py", BOTH,
        ("--histories", "1000", "100000", "--count", "300", "--rounds", "3"),
        ("--histories", "200", "2000", "--count", "40", "--rounds", "1")),
    Job("queue", "queue.py", BOTH, ("--incidents", "100000", "--repeat", "20"),
        ("--incidents", "20000", "--repeat", "3")),
    Job("queue_1m", "queue.py", ("postgresql",), ("--incidents", "1000000", "--repeat", "20"),
        ("--incidents", "1000000", "--repeat", "3"), kept_schema=True),
    Job("connections", "connections.py", BOTH, ("--incidents", "100000", "--repeat", "20"),
        ("--incidents", "5000", "--hot", "500", "--repeat", "3")),
    Job("centres", "centres.py", BOTH, ("--incidents", "100000", "--repeat", "15"),
        ("--incidents", "5000", "--repeat", "3")),
    Job("taxii", "taxii.py", BOTH, ("--objects", "100000", "--repeat", "20"),
        ("--objects", "5000", "--repeat", "3")),
    Job("retrohunt", "retrohunt.py", BOTH, (),
        ("--incidents", "5000", "--indicators", "5000", "--exact", "100", "--networks", "20",
         "--hosts", "20")),
    # 1,000,000 indicators, 15 rounds: the script's defaults
    Job("enrich", "enrich.py", BOTH, (), ("--indicators", "3000", "--rounds", "2")),
    Job("enrich_intake", "enrich_intake.py", BOTH, (),
        ("--indicators", "5000", "--count", "40")),
    # stix2.parse of 20,000 of the 100,000 objects, scaled (its full parse alone takes minutes)
    Job("ingest", "ingest.py", BOTH, ("--count", "100000", "--stix2-sample", "20000"),
        ("--count", "5000", "--stix2-sample", "1000")),
    Job("fanout", "fanout.py", BOTH, (), ("--count", "100", "--stop-after", "30")),
    Job("playbooks", "playbooks.py", BOTH, (), ("--count", "60")),
    Job("statistics", "statistics.py", ("sqlite",), ("--incidents", "30000", "--posts", "40"),
        ("--incidents", "3000", "--posts", "10")),
)  # fmt: skip


def arguments(job: Job, quick: bool) -> tuple[str, ...]:
    return job.quick if quick else job.full
