"""The daily aggregate (incidents.daily) stays equal to the incidents, on both backends: after
random mixes of intake, status, priority, class, TLP, assignment and merge through the services,
after bulk generation, after a rebuild; and the dashboard read from it equals the dashboard
computed from the incidents, for a lead, an analyst (TLP:RED read live) and a reporter."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.db import make_session_factory
from core.errors import DomainError
from core.identity.authz import Actor
from core.identity.models import Organisation, User
from core.uow import transaction
from incidents import daily
from incidents.demo.synthetic import generate_incidents
from incidents.models import TRANSITIONS, Incident, IncidentStatus
from incidents.reporting import daily_read
from incidents.reporting.dashboard import Dashboard, Period, dashboard
from incidents.workspace import merge, workflow
from tests.dbs import TestDatabase
from tests.incidents.reporting.scenario import (
    KINDS,
    SETTINGS,
    ZONE,
    Scenario,
    build,
    report,
    rounded,
    utc,
)

load_commands()  # ``cert reporting`` comes from the incidents slice's manifest
SEEDS = (1, 2, 3)
TLPS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:RED")


def exact(session: Session) -> None:
    session.flush()
    conn = session.connection()
    assert daily.stored(conn) == daily.from_incidents(conn, ZONE)
    assert daily.differences(session, ZONE) == 0


def same_board(session: Session, reader: Actor, period: Period, now: dt.datetime) -> Dashboard:
    """The dashboard from the aggregate, once checked against the one from the incidents."""
    fast = dashboard(session, reader, period, now=now, daily=True)
    slow = dashboard(session, reader, period, now=now, daily=False)
    assert fast.over_time == slow.over_time
    assert rounded(fast.by_priority) == rounded(slow.by_priority)
    assert rounded(fast.by_organisation) == rounded(slow.by_organisation)
    assert rounded(fast.by_sector) == rounded(slow.by_sector)
    return fast


def random_operation(
    session: Session, clock: FrozenClock, rng: random.Random, world: Scenario, lead: Actor
) -> None:
    incidents = list(session.scalars(select(Incident).order_by(Incident.id)))
    choice = rng.randrange(8)
    incident = rng.choice(incidents)
    clock.set(clock.now() + dt.timedelta(hours=rng.uniform(0.2, 30)))
    if choice == 0 or not incidents:
        who = rng.choice([world.reporter_sante, world.incidents["A"].reporter])
        assert who is not None
        when = clock.now() - dt.timedelta(hours=rng.uniform(0, 24 * 40))
        now = clock.now()
        report(
            session, clock, who, rng.choice(list(KINDS)), when, tlp=rng.choice(TLPS)
        )  # report() moves the clock to ``when``
        clock.set(now)
    elif choice in (1, 2):
        allowed = sorted(TRANSITIONS[incident.status])
        if allowed:
            to = rng.choice(allowed)
            workflow.change_status(
                session, lead, incident, to, clock=clock, settings=SETTINGS,
                resolution="Corrigé." if to == IncidentStatus.RESOLVED else None,
                reason="Hors périmètre." if to in (IncidentStatus.REJECTED,
                                                   IncidentStatus.DUPLICATE) else None,
            )  # fmt: skip
    elif choice == 3:
        workflow.set_priority(
            session, lead, incident, rng.choice(["P1", "P2", "P3", "P4"]), "Réévaluée.",
            clock=clock, settings=SETTINGS,
        )  # fmt: skip
    elif choice == 4:
        kind = KINDS[rng.choice(list(KINDS))]
        workflow.reclassify(
            session, lead, incident, kind["category"], kind.get("type"), clock=clock
        )
    elif choice == 5:
        workflow.set_markings(session, lead, incident, rng.choice(TLPS), "PAP:AMBER", clock=clock)
    elif choice == 6:
        other = rng.choice(incidents)
        if other.id != incident.id:
            merge.merge(
                session, lead, incident, other, clock=clock, settings=SETTINGS,
                confirm_organisations=[incident.organisation.slug, other.organisation.slug],
            )  # fmt: skip
    else:  # a change the aggregate does not count: nothing to add
        workflow.assign(session, lead, incident, world.analyst, clock=clock)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_aggregate_equals_the_incidents_after_random_operations(
    db_session: Session, clock: FrozenClock, seed: int
) -> None:
    world = build(db_session, clock)
    lead = Actor.for_user(world.lead)
    rng = random.Random(seed)
    failures = 0
    for _ in range(40):
        try:
            with db_session.begin_nested():  # a refused operation leaves nothing behind
                random_operation(db_session, clock, rng, world, lead)
        except DomainError:
            failures += 1
        exact(db_session)
    assert failures < 30  # most operations went through
    period = Period.last_days(60, now=clock.now(), zone=ZONE)
    for reader in (world.lead, world.analyst, world.reporter_sante):
        board = same_board(db_session, Actor.for_user(reader), period, clock.now())
        assert board.overall.count >= 0


def test_the_dashboard_reads_the_aggregate_only_for_its_zone(
    db_session: Session, clock: FrozenClock
) -> None:
    world = build(db_session, clock)
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 2, 28), ZONE)
    assert daily_read.usable(db_session, period)
    elsewhere = Period(period.first, period.last, "Asia/Tokyo")
    assert not daily_read.usable(db_session, elsewhere)
    lead = Actor.for_user(world.lead)
    board = dashboard(db_session, lead, elsewhere, now=clock.now())  # from the incidents
    assert board.overall.count == 5  # E, 2026-02-28 23:30 UTC, is on 1 March in Tokyo


def test_rebuild_repairs_a_drifted_aggregate_and_follows_a_new_zone(
    db_session: Session, clock: FrozenClock
) -> None:
    build(db_session, clock)
    db_session.execute(
        update(daily.IncidentDaily).values(incidents=daily.IncidentDaily.incidents + 1)
    )
    assert daily.differences(db_session, ZONE) > 0
    assert daily.rebuild(db_session, ZONE) > 0
    exact(db_session)
    daily.rebuild(db_session, "Asia/Tokyo")
    assert daily.zone_of(db_session.connection()) == "Asia/Tokyo"
    assert daily.differences(db_session, ZONE) > 0  # built for Tokyo: not usable for Casablanca
    assert daily.differences(db_session, "Asia/Tokyo") == 0
    daily.rebuild(db_session, ZONE)
    exact(db_session)


def test_an_unbuilt_aggregate_is_left_alone_and_the_dashboard_computes_live(
    db_session: Session, clock: FrozenClock
) -> None:
    db_session.execute(update(daily.DailyZone).values(zone=None))
    world = build(db_session, clock)
    count = db_session.scalar(text("SELECT count(*) FROM incident_daily"))
    assert count == 0
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 2, 28), ZONE)
    assert not daily_read.usable(db_session, period)
    assert (
        dashboard(db_session, Actor.for_user(world.lead), period, now=clock.now()).overall.count
        == 6
    )
    daily.rebuild(db_session, ZONE)
    exact(db_session)


def test_bulk_generated_incidents_are_counted(db_session: Session, clock: FrozenClock) -> None:
    world = build(db_session, clock)
    clock.set(utc(2026, 3, 1, 12))
    generate_incidents(
        db_session, Actor.system("test"), 300, clock=clock, settings=SETTINGS, seed=7
    )
    exact(db_session)
    period = Period.last_days(365, now=clock.now(), zone=ZONE)
    for reader in (world.lead, world.analyst, world.reporter_sante):
        same_board(db_session, Actor.for_user(reader), period, clock.now())
    orgs = db_session.scalar(text("SELECT count(*) FROM organisations"))
    assert orgs is not None and orgs >= 2
    assert isinstance(world.interieur, Organisation)


def test_cert_reporting_rebuild_checks_and_repairs(
    fresh_database: TestDatabase, tmp_path: Path, clock: FrozenClock
) -> None:
    factory = make_session_factory(fresh_database.engine)
    with transaction(factory) as session:
        build(session, clock)
    with transaction(factory) as session:  # drift, as a statement bypassing the ORM would make
        session.execute(update(daily.IncidentDaily).values(incidents=7))
    env = {
        "CERT_DATABASE_URL": fresh_database.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
    }
    runner = CliRunner()
    check = runner.invoke(cli, ["reporting", "rebuild", "--check"], env=env)
    assert check.exit_code == 1 and "differ" in check.output
    done = runner.invoke(cli, ["reporting", "rebuild"], env=env, catch_exceptions=False)
    assert done.exit_code == 0 and f"rebuilt for {ZONE}" in done.output, done.output
    check = runner.invoke(cli, ["reporting", "rebuild", "--check"], env=env)
    assert check.exit_code == 0 and check.output.startswith("0 key(s) differ"), check.output


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-01-16", "2026-01-16"),  # one day
        ("2026-01-02", "2026-01-30"),  # inside a month
        ("2026-01-01", "2026-01-31"),  # one whole month
        ("2025-12-15", "2026-02-20"),  # a whole month between two partial ones
        ("2026-01-10", "2026-03-01"),  # partial, whole, one day
        ("2025-03-02", "2026-03-01"),  # 365 days
    ],
)
def test_months_and_days_add_up_to_any_period(
    db_session: Session, clock: FrozenClock, first: str, last: str
) -> None:
    world = build(db_session, clock)
    period = Period(dt.date.fromisoformat(first), dt.date.fromisoformat(last), ZONE)
    for reader in (world.lead, world.analyst, world.reporter_sante):
        same_board(db_session, Actor.for_user(reader), period, clock.now())


def test_concurrent_writers_keep_the_aggregate_exact(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    """Four writers change the same two incidents at once (priority, class, TLP, status): on
    PostgreSQL each re-reads what it changes ``FOR UPDATE``, so a change committed meanwhile is
    counted once; on SQLite the write lock serialises them."""
    with transaction(factory, write=True) as session:
        world = build(session, clock)
        targets = [world.incidents["C"].id, world.incidents["E"].id]
        lead_id = world.lead.id

    def writer(seed: int) -> int:
        rng, done = random.Random(seed), 0
        for _ in range(12):
            try:
                with transaction(factory, write=True) as session:
                    incident = session.get(Incident, rng.choice(targets))
                    lead = Actor.for_user(session.get(User, lead_id))  # type: ignore[arg-type]
                    assert incident is not None
                    choice = rng.randrange(3)
                    if choice == 0:
                        workflow.set_priority(
                            session, lead, incident, rng.choice(["P1", "P2", "P3", "P4"]),
                            "Réévaluée.", clock=clock, settings=SETTINGS,
                        )  # fmt: skip
                    elif choice == 1:
                        kind = KINDS[rng.choice(list(KINDS))]
                        workflow.reclassify(
                            session, lead, incident, kind["category"], kind.get("type"),
                            clock=clock,
                        )  # fmt: skip
                    else:
                        workflow.set_markings(
                            session, lead, incident, rng.choice(TLPS), "PAP:AMBER", clock=clock
                        )
                done += 1
            except DomainError:
                pass
        return done

    with ThreadPoolExecutor(4) as pool:
        done = sum(pool.map(writer, range(4)))
    assert done >= 24
    with transaction(factory) as session:
        assert daily.differences(session, ZONE) == 0
