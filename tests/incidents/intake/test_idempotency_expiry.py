"""Idempotency keys expire: ``purge_expired_keys``, the scheduler job that calls it every hour
and ``CERT_IDEMPOTENCY_TTL_HOURS`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

import cert.cli.scheduler  # noqa: F401 (registers `cert jobs`)
from cert import scheduler
from cert.app import create_app
from cert.cli import cli
from core.clock import FrozenClock
from core.config import Config, ConfigError, load_config
from core.db import SessionFactory, make_session_factory
from core.identity.authz import Actor
from core.identity.models import Organisation
from core.jobs import JobStatus, apscheduler_jobs, run_slot, slot_for
from core.uow import transaction
from incidents.intake import jobs as intake_jobs
from incidents.intake.idempotency import purge_expired_keys, submit_once
from incidents.intake.schemas import IncidentSubmission
from incidents.models import IdempotencyKey
from incidents.settings import IntakeSettings
from tests.dbs import TestDatabase
from tests.kit.api import PHISHING, api_user, envelope, incident_count, submit
from tests.kit.factories import make_user
from tests.kit.scheduler import closed_port, job_runs, wait_until

JOB_ID = "incidents.purge_idempotency_keys"
T0 = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


def keys(session: Session) -> list[str]:
    return sorted(session.scalars(select(IdempotencyKey.key)))


def header(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


# ---------------------------------------------------------------- purge_expired_keys
def test_purge_removes_only_the_keys_created_before_the_cutoff(
    client: FlaskClient,
    db_session: Session,
    clock: FrozenClock,
    interieur: Organisation,
    reporter_token: str,
) -> None:
    colleague = api_user(db_session, clock, interieur)[1]
    assert submit(client, reporter_token, **header("old-1")).status_code == 201
    assert submit(client, colleague, **header("old-2")).status_code == 201  # any user's key
    clock.advance(hours=1)
    cutoff = clock.now()
    assert submit(client, reporter_token, **header("at-cutoff")).status_code == 201
    clock.advance(hours=1)
    assert submit(client, reporter_token, **header("fresh")).status_code == 201

    assert purge_expired_keys(db_session, older_than=cutoff) == 2
    assert keys(db_session) == ["at-cutoff", "fresh"]  # created at the cutoff: kept
    assert purge_expired_keys(db_session, older_than=cutoff) == 0
    assert incident_count(db_session) == 4  # the keys go, never their incidents
    assert purge_expired_keys(db_session, older_than=clock.now() + dt.timedelta(seconds=1)) == 2
    assert keys(db_session) == []


def test_the_purge_finds_expired_keys_through_an_index(db_session: Session) -> None:
    # it runs every hour while holding the write lock: it must not scan every key ever stored
    keys_table = IdempotencyKey.metadata.tables["idempotency_keys"]
    statement = delete(keys_table).where(keys_table.c.created_at < T0)
    sql = str(statement.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True}))
    if db_session.get_bind().dialect.name == "sqlite":
        plan = " ".join(
            str(row[-1]) for row in db_session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        )
    else:  # on an empty table the planner rightly prefers a scan: ask whether it *can* use one
        db_session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(str(row[0]) for row in db_session.execute(text(f"EXPLAIN {sql}")))
    assert "ix_idempotency_keys_created_at" in plan, plan


def test_after_the_purge_the_same_key_with_another_body_creates_a_new_incident(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter_token: str
) -> None:
    other = {**PHISHING, "impact": "low"}
    first = submit(client, reporter_token, **header("soc-2026-0117"))
    assert first.status_code == 201
    envelope(submit(client, reporter_token, other, **header("soc-2026-0117")), 409, "conflict")

    clock.advance(hours=25)
    assert purge_expired_keys(db_session, older_than=clock.now() - dt.timedelta(hours=24)) == 1

    again = submit(client, reporter_token, other, **header("soc-2026-0117"))
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["reference"] != first.get_json()["reference"]
    assert incident_count(db_session) == 2
    replayed = submit(
        client, reporter_token, other, **header("soc-2026-0117")
    )  # the key is new again
    assert replayed.status_code == 200
    assert replayed.get_json()["reference"] == again.get_json()["reference"]


def test_an_expired_key_no_longer_replays_even_before_the_purge(
    client: FlaskClient, db_session: Session, clock: FrozenClock, reporter_token: str
) -> None:
    other = {**PHISHING, "impact": "low"}
    first = submit(client, reporter_token, **header("k"))
    assert first.status_code == 201
    clock.advance(hours=24)  # CERT_IDEMPOTENCY_TTL_HOURS, to the second: still remembered
    assert submit(client, reporter_token, **header("k")).get_json() == first.get_json()
    envelope(submit(client, reporter_token, other, **header("k")), 409, "conflict")

    clock.advance(seconds=1)  # expired, not purged yet
    again = submit(client, reporter_token, other, **header("k"))
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["reference"] != first.get_json()["reference"]
    assert incident_count(db_session) == 2
    assert keys(db_session) == ["k"]  # the expired row was replaced by the new one
    assert submit(client, reporter_token, other, **header("k")).get_json() == again.get_json()
    envelope(submit(client, reporter_token, **header("k")), 409, "conflict")


def test_the_ttl_comes_from_the_configuration(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
    reporter_token: str,
) -> None:
    app = create_app(
        {**settings, "idempotency_ttl_hours": 1}, session_factory=session_factory, clock=clock
    )
    client = app.test_client()
    assert submit(client, reporter_token, **header("k")).status_code == 201
    clock.advance(hours=1, seconds=1)
    assert submit(client, reporter_token, **header("k")).status_code == 201
    assert incident_count(db_session) == 2


# ---------------------------------------------------------------- CERT_IDEMPOTENCY_TTL_HOURS
def test_ttl_defaults_to_a_day_and_purges_hourly(tmp_path: Path) -> None:
    config = load_config(environ={"CERT_INSTANCE_DIR": str(tmp_path)})
    assert config.idempotency_ttl_hours == 24
    assert config.idempotency_purge_interval_seconds == 3600
    custom = load_config(
        environ={
            "CERT_INSTANCE_DIR": str(tmp_path),
            "CERT_IDEMPOTENCY_TTL_HOURS": "48",
            "CERT_IDEMPOTENCY_PURGE_INTERVAL": "600",
        }
    )
    assert (custom.idempotency_ttl_hours, custom.idempotency_purge_interval_seconds) == (48, 600)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "CERT_IDEMPOTENCY_TTL_HOURS: must be greater than zero, got 0"),
        ("-24", "CERT_IDEMPOTENCY_TTL_HOURS: must be greater than zero, got -24"),
        ("1.5", "CERT_IDEMPOTENCY_TTL_HOURS: expected a whole number, got '1.5'"),
        ("a day", "CERT_IDEMPOTENCY_TTL_HOURS: expected a whole number, got 'a day'"),
    ],
)
def test_an_invalid_ttl_stops_start_up_naming_the_variable(
    tmp_path: Path, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(
            environ={"CERT_INSTANCE_DIR": str(tmp_path), "CERT_IDEMPOTENCY_TTL_HOURS": value}
        )
    assert str(err.value) == message


# ---------------------------------------------------------------- the scheduler job
def test_the_purge_job_is_registered() -> None:
    spec = scheduler.JOBS[JOB_ID]
    assert spec.resolve() is intake_jobs.purge_idempotency_keys
    assert spec.interval == "idempotency_purge_interval_seconds"


def _config(db: TestDatabase, tmp_path: Path, **overrides: object) -> Config:
    settings = {"database_url": db.url, "instance_dir": tmp_path, "secret_key": "s" * 40}
    return load_config({**settings, **overrides}, environ={})


def _submit_with_keys(factory: SessionFactory, clock: FrozenClock, *names: str) -> None:
    """One incident per key, through the real service, committed."""
    data = IncidentSubmission.model_validate(PHISHING)
    with transaction(factory) as session:
        actor = Actor.for_user(make_user(session, clock, password=None))
        for name in names:
            submit_once(session, actor, data, key=name, clock=clock, settings=IntakeSettings())


@pytest.mark.parametrize(("ttl_hours", "left"), [(24, ["c"]), (1, [])])
def test_the_job_purges_older_keys_in_one_run_shown_by_jobs_list(
    fresh_database: TestDatabase, tmp_path: Path, ttl_hours: int, left: list[str]
) -> None:
    factory = make_session_factory(fresh_database.engine)
    clock = FrozenClock(T0)
    _submit_with_keys(factory, clock, "a", "b")
    clock.advance(hours=23)
    _submit_with_keys(factory, clock, "c")
    clock.advance(hours=2)  # a and b are 25 hours old, c 2 hours
    config = _config(fresh_database, tmp_path, idempotency_ttl_hours=ttl_hours)
    context = scheduler.JobContext(config, fresh_database.engine, factory, clock, "test:1")
    spec = scheduler.JOBS[JOB_ID]
    slot = slot_for(clock.now(), spec.interval_seconds(config))

    run = run_slot(
        factory, JOB_ID, slot, lambda: spec.resolve()(context), clock=clock, runner="test:1"
    )

    assert run is not None and run.status == JobStatus.SUCCESS, run and run.error
    assert run.counts == {"deleted": 3 - len(left)}
    with factory() as session:
        assert keys(session) == left
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path),
        "CERT_SECRET_KEY": "s" * 40,
    }
    result = CliRunner().invoke(cli, ["jobs", "list", "--job", JOB_ID], env=env)
    assert result.exit_code == 0, result.output
    expected = f'{JOB_ID}\t2026-01-16 10:00:00Z\tsuccess\t0.000s\t{{"deleted": {3 - len(left)}}}'
    assert result.output.splitlines() == [expected]


def test_the_scheduler_runs_the_purge_job(fresh_database: TestDatabase, tmp_path: Path) -> None:
    factory = make_session_factory(fresh_database.engine)
    created = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    _submit_with_keys(factory, FrozenClock(created), "expired")
    config = _config(
        fresh_database,
        tmp_path,
        smtp_url=f"smtp://127.0.0.1:{closed_port()}",  # the outbox drain runs too
        scheduler_poll_seconds=0.2,
        scheduler_lock_key=random.randint(1, 2**62),
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=scheduler.run_scheduler, args=(config,), kwargs={"stop_event": stop}
    )
    thread.start()
    try:
        wait_until(
            lambda: [r for r in job_runs(fresh_database.engine) if r.job_id == JOB_ID], 20, JOB_ID
        )
        with fresh_database.engine.connect() as conn:
            assert JOB_ID in set(conn.scalars(select(apscheduler_jobs.c.id)))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    run = next(r for r in job_runs(fresh_database.engine) if r.job_id == JOB_ID)
    assert run.status == JobStatus.SUCCESS, run.error  # stopping let the run finish
    assert run.counts == {"deleted": 1}
    assert run.scheduled_for == slot_for(run.scheduled_for, 3600)  # on the hourly grid
    with factory() as session:
        assert keys(session) == []
