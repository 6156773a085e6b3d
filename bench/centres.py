"""The dashboard per vigilance centre: what the national view's table per centre costs, and a
centre's dashboard (computed from the incidents by ``ix_incidents_centre_received``: the daily
aggregate has no centre) next to the national one (from the aggregate).

``--incidents`` synthetic incidents (as ``bench/queue.py``), spread over three centres (the
national one and two sectoral ones, a third each); then, for the last 30 and 365 days, the
median and p95 of each read as a lead (every centre) and as an analyst of one centre.

    .venv/bin/python bench/centres.py --incidents 100000
    .venv/bin/python bench/centres.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.queue import bench_database, populate  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from core.identity.centres import Centre, CentreMember  # noqa: E402
from core.identity.models import Role, User  # noqa: E402
from core.uow import transaction  # noqa: E402
from incidents.reporting.by_centre import by_centre  # noqa: E402
from incidents.reporting.dashboard import Period, dashboard  # noqa: E402

ZONE = "Africa/Casablanca"
TARGET_MS = 100.0  # the dashboard's (issue 17), applied to every reading of the product
# reading → what it is compared with in the same run (the table's baseline)
BASELINES = {
    "national dashboard (aggregate)": "national dashboard from the incidents",
    "table per centre (aggregate)": "table per centre from the incidents",
    "one centre's dashboard (lead)": "national dashboard (aggregate)",
    "a centre analyst's dashboard": "national dashboard (aggregate)",
}


def spread(url: str) -> tuple[int, int]:
    """Two sectoral centres; a third of the incidents in each (by id); an analyst of the first.
    The ids of the first centre and of that analyst."""
    engine = make_engine(url)
    now = SystemClock().now()
    with transaction(make_session_factory(engine)) as session:
        ids = []
        for slug in ("health", "finance"):
            centre = Centre(
                slug=slug, name=slug, sectors=[slug], regions=[], categories=[],
                working_hours={}, created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(centre)
            session.flush()
            ids.append(centre.id)
        analyst = session.scalars(select(User).where(User.role == Role.ANALYST)).first()
        assert analyst is not None
        session.execute(text("DELETE FROM centre_members WHERE user_id = :u"), {"u": analyst.id})
        session.add(CentreMember(centre_id=ids[0], user_id=analyst.id, added_at=now))
        for remainder, centre_id in enumerate(ids, start=1):
            session.execute(
                text("UPDATE incidents SET centre_id = :c WHERE id % 3 = :r"),
                {"c": centre_id, "r": remainder},
            )
        analyst_id = analyst.id
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return ids[0], analyst_id


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        spent.append((time.perf_counter() - started) * 1000)
    spent.sort()
    return statistics.median(spent), spent[min(len(spent) - 1, int(len(spent) * 0.95))]


def readings(
    session: Session, period: Period, lead: Actor, analyst: Actor, centre: int
) -> list[tuple[str, Callable[[], Any]]]:
    now = SystemClock().now()

    def national() -> Any:
        return dashboard(session, lead, period, now=now)

    def table_live() -> Any:
        return by_centre(session, lead, period, now=now)

    def table() -> Any:
        return by_centre(session, lead, period, now=now, daily=True)

    def one_centre() -> Any:
        return dashboard(session, lead, period, now=now, centre=centre)

    def centre_analyst() -> Any:
        return dashboard(session, analyst, period, now=now)

    def national_live() -> Any:
        return dashboard(session, lead, period, now=now, daily=False)

    return [
        ("national dashboard (aggregate)", national),
        ("table per centre (aggregate)", table),
        ("table per centre from the incidents", table_live),
        ("one centre's dashboard (lead)", one_centre),
        ("a centre analyst's dashboard", centre_analyst),
        ("national dashboard from the incidents", national_live),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    add_option(parser)
    args = parser.parse_args()
    enable(args.json)
    with bench_database(args.database_url) as url:
        populate(url, args.incidents, 2026)
        centre, analyst_id = spread(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        now = SystemClock().now()
        print(f"{engine.dialect.name}, {args.incidents:,} incidents, 3 centres (p50 / p95 ms)")
        with factory() as session:
            leads = session.scalars(select(User).where(User.role == Role.LEAD)).first()
            one = session.get(User, analyst_id)
            assert leads is not None and one is not None
            lead, analyst = Actor.for_user(leads), Actor.for_user(one)
            for days in (30, 365):
                period = Period.last_days(days, now=now, zone=ZONE)
                seen: dict[str, float] = {}
                for name, run in readings(session, period, lead, analyst, centre):
                    p50, p95 = timed(run, args.repeat)
                    seen[name] = p95
                    print(f"  {days:>3} days  {name:<40} {p50:7.1f} / {p95:7.1f}")
                for name, other in BASELINES.items():
                    emit(
                        f"centres: {name}, {days} days, {args.incidents:,} incidents (p95)",
                        engine.dialect.name,
                        seen[name],
                        "ms",
                        f"≤ {TARGET_MS:.0f} ms",
                        seen[name] <= TARGET_MS,
                        baseline=seen[other],
                        note=f"baseline: {other}; target: the dashboard's (issue 17)",
                    )
        engine.dispose()


if __name__ == "__main__":
    main()
