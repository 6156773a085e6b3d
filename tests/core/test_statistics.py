"""The ``db.refresh_statistics`` job keeps SQLite's planner statistics describing the tables:
it leaves a nearly empty database without any (the planner's defaults assume large tables and
use the indexes), and analyses again a table that has grown or shrunk by half since its
statistics were taken — within minutes of a bulk load or a first day of imported history."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from cert import scheduler
from cert.scheduler.registry import JobContext
from core.clock import FrozenClock
from core.config import load_config
from core.db import stale_statistics
from core.identity.authz import Actor
from incidents.demo.synthetic import generate_incidents
from incidents.settings import IntakeSettings
from tests.dbs import TestDatabase
from tests.kit.factories import make_org, make_user

STATS = "db.refresh_statistics"


@pytest.fixture
def context(fresh_database: TestDatabase, tmp_path: Path) -> Iterator[JobContext]:
    config = load_config(
        {
            "database_url": fresh_database.url,
            "instance_dir": tmp_path,
            "secret_key": "s" * 40,
            "scheduler_lock_key": random.randint(1, 2**62),
        },
        environ={},
    )
    yield scheduler.open_context(config)
    scheduler.close_context()


def add_incidents(engine: Engine, count: int) -> None:
    clock = FrozenClock()
    with Session(engine) as session:
        if not session.scalar(text("SELECT count(*) FROM organisations")):
            make_user(session, clock, org=make_org(session, clock))
        generate_incidents(
            session, Actor.system("test"), count, clock=clock, settings=IntakeSettings()
        )
        session.commit()


def analysed_rows(engine: Engine, table: str) -> int | None:
    """The row count ``sqlite_stat1`` gives ``table`` (``None``: no statistics): the largest of
    its indexes' counts, since a partial index counts only the rows it holds."""
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'")):
            return None
        stats = conn.scalars(
            text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}
        ).all()
    return max((int(stat.split()[0]) for stat in stats), default=None)


def run_job(context: JobContext) -> dict[str, int]:
    return dict(scheduler.JOBS[STATS].resolve()(context))


@pytest.mark.parametrize("fresh_database", ["sqlite"], indirect=True)
def test_a_nearly_empty_database_is_left_without_statistics(context: JobContext) -> None:
    add_incidents(context.engine, 12)  # the scheduler starts on a freshly seeded demo
    assert run_job(context) == {"analysed": 0}
    assert analysed_rows(context.engine, "incidents") is None  # defaults: indexes are used


@pytest.mark.parametrize("fresh_database", ["sqlite"], indirect=True)
def test_statistics_are_taken_again_once_a_table_has_doubled(context: JobContext) -> None:
    engine = context.engine
    add_incidents(engine, 12)
    with engine.begin() as conn:  # statistics of a nearly empty database (a plain ANALYZE)
        conn.execute(text("ANALYZE"))
    assert analysed_rows(engine, "incidents") == 12
    add_incidents(engine, 1000)  # the first day's import
    with engine.connect() as conn:
        stale = set(stale_statistics(conn))
    assert {"incidents", "incident_observables"} <= stale
    assert run_job(context) == {"analysed": len(stale)}
    assert analysed_rows(engine, "incidents") == 1012
    assert analysed_rows(engine, "incident_observables") == 2024
    assert run_job(context) == {"analysed": 0}  # up to date: nothing to do
    add_incidents(engine, 500)  # less than double: the statistics still describe it
    assert run_job(context) == {"analysed": 0}
    add_incidents(engine, 600)
    assert run_job(context)["analysed"] >= 2
    assert analysed_rows(engine, "incidents") == 2112


@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_postgresql_keeps_its_own_statistics(context: JobContext) -> None:
    add_incidents(context.engine, 200)
    assert run_job(context) == {"analysed": 0}  # autovacuum's work
