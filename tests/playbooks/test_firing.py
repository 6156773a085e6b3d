"""Firing before-incident schedules: one run per target organisation and slot, whatever the
number of schedulers that fire it; missed slots fire once; edits picked up without a restart."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.config import load_config
from core.db import make_session_factory
from core.errors import PermissionDenied
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationKind
from core.jobs import JobContext
from core.uow import transaction
from playbooks.automation.firing import fire_due_schedules, run_schedule_now
from playbooks.automation.jobs import fire_schedules
from playbooks.library.services import import_playbook
from playbooks.models import Playbook, PlaybookRun, PlaybookSchedule, RunOrigin
from playbooks.settings import PlaybookSettings
from playbooks.slice import SLICE
from tests.dbs import TestDatabase
from tests.kit.world import World
from tests.playbooks.cacao_kit import document, text

SYSTEM = Actor.system("test")
SETTINGS = PlaybookSettings()


def _playbook(session: Session, clock: FrozenClock) -> Playbook:
    doc = document(types=("detection",))
    return import_playbook(session, SYSTEM, text(doc), clock=clock).playbook


def _schedule(
    session: Session, clock: FrozenClock, playbook: Playbook, **fields: Any
) -> PlaybookSchedule:
    values: dict[str, Any] = {
        "cacao_id": playbook.cacao_id,
        "cron": "0 7 * * *",
        "timezone": "Africa/Casablanca",
        "organisation_ids": None,
        "enabled": True,
        "next_fire_at": clock.now() - dt.timedelta(minutes=1),
        "created_at": clock.now(),
    }
    values.update(fields)
    schedule = PlaybookSchedule(**values)
    session.add(schedule)
    session.flush()
    return schedule


def _runs(session: Session, schedule: PlaybookSchedule | None = None) -> list[PlaybookRun]:
    query = select(PlaybookRun).order_by(PlaybookRun.organisation_id, PlaybookRun.id)
    if schedule is not None:
        query = query.where(PlaybookRun.schedule_id == schedule.id)
    return list(session.scalars(query))


def _fire(factory: sessionmaker[Session], clock: FrozenClock) -> dict[str, int]:
    return fire_due_schedules(factory, clock=clock, settings=SETTINGS)


@pytest.fixture
def orgs(world: World) -> list[Organisation]:
    """The constituents (the CERT exists too: schedules never run for it)."""
    assert world.cert.kind == OrganisationKind.CERT
    return sorted([world.interieur, world.sante], key=lambda o: o.id)


def test_a_due_schedule_starts_one_run_per_organisation_and_moves_on(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    orgs: list[Organisation],
) -> None:  # fmt: skip
    playbook = _playbook(db_session, clock)
    due = _schedule(db_session, clock, playbook)
    slot = due.next_fire_at
    later = _schedule(db_session, clock, playbook, next_fire_at=clock.now() + dt.timedelta(hours=1))
    counts = _fire(session_factory, clock)
    assert counts["fired"] == 1 and counts["runs"] == 2
    runs = _runs(db_session, due)
    assert [r.organisation_id for r in runs] == [o.id for o in orgs]
    assert {r.origin for r in runs} == {RunOrigin.SCHEDULE}
    assert runs[0].dedupe_key == f"schedule:{due.id}:{slot.isoformat()}:{orgs[0].id}"
    db_session.refresh(due)
    db_session.refresh(later)
    # 09:00 UTC on 15 January → 07:00 in Casablanca (UTC+1) is 06:00 UTC the next morning
    assert due.next_fire_at == dt.datetime(2026, 1, 16, 6, 0, tzinfo=dt.UTC)
    assert due.last_fired_at == clock.now()
    assert _runs(db_session, later) == [] and later.last_fired_at is None
    assert _fire(session_factory, clock)["runs"] == 0  # not due any more


def test_a_slot_fired_twice_starts_each_run_once(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    orgs: list[Organisation],
) -> None:  # fmt: skip
    schedule = _schedule(db_session, clock, _playbook(db_session, clock))
    slot = schedule.next_fire_at
    assert _fire(session_factory, clock)["runs"] == 2
    # a standby that read the schedule before the leader's commit fires the same slot again
    db_session.refresh(schedule)
    schedule.next_fire_at = slot
    db_session.flush()
    again = _fire(session_factory, clock)
    assert again["fired"] == 1 and again["runs"] == 0
    assert len(_runs(db_session, schedule)) == 2


def test_missed_slots_fire_once(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    orgs: list[Organisation],
) -> None:  # fmt: skip
    hourly = _schedule(db_session, clock, _playbook(db_session, clock), cron="0 * * * *",
                       next_fire_at=clock.now() - dt.timedelta(hours=5))  # fmt: skip
    assert _fire(session_factory, clock)["runs"] == 2
    assert _fire(session_factory, clock)["runs"] == 0
    db_session.refresh(hourly)
    assert clock.now() < hourly.next_fire_at <= clock.now() + dt.timedelta(hours=1)
    assert hourly.next_fire_at.minute == 0
    clock.advance(hours=1)
    assert _fire(session_factory, clock)["runs"] == 2  # the next slot, fired normally
    assert len(_runs(db_session, hourly)) == 4


def test_disabled_or_revoked_playbooks_and_disabled_schedules_start_nothing(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    orgs: list[Organisation],
) -> None:  # fmt: skip
    disabled, revoked = _playbook(db_session, clock), _playbook(db_session, clock)
    disabled.enabled = False
    revoked.revoked = True
    s1 = _schedule(db_session, clock, disabled)
    s2 = _schedule(db_session, clock, revoked)
    s3 = _schedule(db_session, clock, _playbook(db_session, clock), enabled=False)
    counts = _fire(session_factory, clock)
    assert counts["runs"] == 0 and counts["skipped"] == 2
    assert _runs(db_session) == []
    for schedule in (s1, s2):  # moved on all the same: no pile of due slots
        db_session.refresh(schedule)
        assert schedule.next_fire_at is not None and schedule.next_fire_at > clock.now()
    db_session.refresh(s3)
    assert s3.last_fired_at is None


def test_a_chosen_set_of_organisations(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    orgs: list[Organisation], world: World,
) -> None:  # fmt: skip
    sante = world.sante
    schedule = _schedule(db_session, clock, _playbook(db_session, clock),
                         organisation_ids=[sante.id])  # fmt: skip
    assert _fire(session_factory, clock)["runs"] == 1
    assert [r.organisation_id for r in _runs(db_session, schedule)] == [sante.id]


def test_an_edited_schedule_is_picked_up_without_a_restart(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    orgs: list[Organisation],
) -> None:  # fmt: skip
    schedule = _schedule(db_session, clock, _playbook(db_session, clock), next_fire_at=None,
                         cron="*/15 * * * *")  # fmt: skip
    counts = _fire(session_factory, clock)
    assert counts["scheduled"] == 1 and counts["runs"] == 0  # computed, not fired at once
    db_session.refresh(schedule)
    assert schedule.next_fire_at == dt.datetime(2026, 1, 15, 9, 15, tzinfo=dt.UTC)
    clock.advance(minutes=14)
    assert _fire(session_factory, clock)["runs"] == 0
    clock.advance(minutes=1)
    assert _fire(session_factory, clock)["runs"] == 2
    broken = _schedule(db_session, clock, _playbook(db_session, clock), next_fire_at=None,
                       cron="0 0 31 2 *")  # fmt: skip
    assert _fire(session_factory, clock)["invalid"] == 1
    db_session.refresh(broken)
    assert broken.next_fire_at is None


def test_run_now_is_for_leads_and_starts_every_time(
    db_session: Session, clock: FrozenClock, world: World, orgs: list[Organisation]
) -> None:
    schedule = _schedule(db_session, clock, _playbook(db_session, clock),
                         next_fire_at=clock.now() + dt.timedelta(days=1))  # fmt: skip
    lead = Actor.for_user(world.lead)
    first = run_schedule_now(db_session, lead, schedule, clock=clock, settings=SETTINGS)
    second = run_schedule_now(db_session, lead, schedule, clock=clock, settings=SETTINGS)
    assert len(first) == len(second) == 2
    assert {r.origin for r in first} == {RunOrigin.MANUAL}
    assert all(r.dedupe_key.startswith("manual:") for r in first + second)
    with pytest.raises(PermissionDenied):
        run_schedule_now(db_session, Actor.for_user(world.analyst), schedule, clock=clock,
                         settings=SETTINGS)  # fmt: skip
    assert len(_runs(db_session, schedule)) == 4


def test_the_job_is_listed() -> None:
    [job] = [j for j in SLICE.jobs if j.name == "playbooks.fire_schedules"]
    assert job.target == "playbooks.automation.jobs:fire_schedules"
    assert job.interval == "playbook_schedules_interval_seconds"


def test_cert_playbooks_fire(fresh_database: TestDatabase, tmp_path: Path) -> None:
    load_commands()  # ``cert playbooks`` comes from the slice's manifest
    clock = FrozenClock()
    factory = make_session_factory(fresh_database.engine)
    with transaction(factory) as session:
        world = World(session, clock)
        org = world.interieur
        playbook = _playbook(session, clock)
        schedule = _schedule(session, clock, playbook, organisation_ids=[org.id],
                             next_fire_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))  # fmt: skip
        schedule_id = schedule.id
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }
    runner = CliRunner()
    result = runner.invoke(cli, ["playbooks", "fire", str(schedule_id)], env=env)
    assert result.exit_code == 0, result.output
    assert "runs=0" in result.output  # not due
    result = runner.invoke(cli, ["playbooks", "fire", str(schedule_id), "--now"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("started 1 run(s)")
    missing = runner.invoke(cli, ["playbooks", "fire", "999999", "--now"], env=env)
    assert missing.exit_code != 0 and "999999" in missing.output
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(PlaybookRun)) == 1


def test_two_schedulers_firing_at_once_start_each_run_once(
    factory: sessionmaker[Session],
) -> None:
    """Two leaders (a fail-over overlap) run the job together on a database of their own."""
    clock = FrozenClock()
    with transaction(factory) as session:
        world = World(session, clock)
        assert world.interieur and world.sante and world.cert
        schedule_id = _schedule(session, clock, _playbook(session, clock)).id
    with factory() as session:
        engine = session.get_bind().engine
    context = JobContext(config=load_config({"secret_key": "k" * 40}, environ={}), engine=engine,
                         session_factory=factory, clock=clock, runner="test:1",
                         settings={"playbooks": SETTINGS})  # fmt: skip
    barrier = threading.Barrier(2)
    results: list[Mapping[str, int]] = []

    def leader() -> None:
        barrier.wait()
        results.append(fire_schedules(context))

    threads = [threading.Thread(target=leader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2 and sum(r["runs"] for r in results) == 2
    with transaction(factory) as session:
        runs = session.scalars(select(PlaybookRun).where(PlaybookRun.schedule_id == schedule_id))
        assert len({r.organisation_id for r in runs}) == 2
        assert session.scalar(select(func.count()).select_from(PlaybookRun)) == 2
