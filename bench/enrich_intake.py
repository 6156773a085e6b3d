"""The cost enrichment adds to a submission: ``submit_incident`` (the service the form, the API
and e-mail intake call) on a migrated database holding 100,000 indicators (loaded as
``bench/enrich.py`` does), 400 submissions of ``bench/intake.py``'s body alternating with and
without ``incidents.intel.enrichment.enrich`` (replaced by a no-op), in the same process; the
first 20 of each left out. Prints the median and p90 of each, and the difference.

    .venv/bin/python bench/enrich_intake.py
    .venv/bin/python bench/enrich_intake.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # keep sibling scripts (bench/queue.py) off the path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import select  # noqa: E402

from bench.emit import add_option, emit, enable  # noqa: E402
from bench.enrich import indicator_values, load  # noqa: E402
from bench.intake_setup import bench_database, body, create_reporter_tokens  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.db import make_engine, make_session_factory  # noqa: E402
from core.identity.authz import Actor  # noqa: E402
from core.identity.models import User  # noqa: E402
from feeds.index import benign  # noqa: E402
from incidents.intake import service  # noqa: E402
from incidents.intake.schemas import IncidentSubmission  # noqa: E402
from incidents.settings import IntakeSettings  # noqa: E402


def _none(*_args: Any, **_kwargs: Any) -> list[Any]:
    return []


def run(args: argparse.Namespace) -> int:
    names = vars(service)  # the intake service's globals: its ``enrich`` is swapped below
    real = names["enrich"]
    with bench_database(args.database_url) as url:
        create_reporter_tokens(url, 1)
        engine = make_engine(url)
        load(engine, indicator_values(args.indicators, random.Random(18)))
        factory = make_session_factory(engine)
        benign.preload()  # paid once per process, at first use
        clock, settings = SystemClock(), IntakeSettings()
        with factory() as session:
            user = session.scalars(select(User).where(User.email == "rssi@bench.gov.ma")).one()
            actor = Actor.for_user(user)
        times: dict[str, list[float]] = {"with": [], "without": []}
        for i in range(2 * args.count):
            mode = "with" if i % 2 else "without"
            names["enrich"] = real if mode == "with" else _none
            data = IncidentSubmission.model_validate(body("enrich", i))
            with factory() as session:
                start = time.perf_counter()
                service.submit_incident(session, actor, data, clock=clock, settings=settings)
                session.commit()
                times[mode].append((time.perf_counter() - start) * 1000)
        names["enrich"] = real
        name = engine.dialect.name
        engine.dispose()
    medians = {}
    for mode, values in times.items():
        kept = values[20:]
        medians[mode] = statistics.median(kept)
        p90 = statistics.quantiles(kept, n=10)[-1]
        print(f"{name} {mode:7} enrichment: median {medians[mode]:.2f} ms, p90 {p90:.2f} ms")
    print(f"{name}: enrichment adds {medians['with'] - medians['without']:.2f} ms a submission")
    emit(
        f"enrichment in intake: submit_incident with {args.indicators:,} indicators (median)",
        name,
        medians["with"],
        "ms",
        "none set (what matching adds)",
        None,
        baseline=medians["without"],
        note="baseline: the same submissions with enrichment replaced by a no-op",
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+psycopg://… (default: SQLite)")
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=200, help="submissions of each kind")
    add_option(parser)
    args = parser.parse_args()
    enable(args.json)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
