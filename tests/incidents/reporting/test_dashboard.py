"""Dashboard figures against hand-built incidents on both backends: local-day buckets across the
zone's offset changes, MTTA/MTTR and SLA compliance per priority, visibility, query count.

The scenario (``build``, in ``scenario.py``) is shared with the stats, PDF and page tests.
Africa/Casablanca is UTC+1, except UTC+0 from 2026-02-15 02:00 to 2026-03-22 02:00 UTC (Ramadan).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.identity.authz import Actor
from core.identity.models import User
from incidents.reporting.dashboard import (
    Granularity,
    Period,
    breakdown,
    dashboard,
    offset_changes,
    open_by_priority,
    over_time,
    parse_period,
)
from tests.incidents.reporting.scenario import (
    NOW,
    PERIOD,
    ZONE,
    H,
    Scenario,
    build,
    report,
    rounded,
    utc,
)
from tests.kit.factories import make_user


@pytest.fixture
def scenario(db_session: Session, clock: FrozenClock) -> Scenario:
    return build(db_session, clock)


def actor(user: User) -> Actor:
    return Actor.for_user(user)


def test_the_zone_offsets_of_the_period_are_found() -> None:
    assert offset_changes(Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31), ZONE)) == [
        (utc(2025, 12, 31, 23, 0), H),
        (utc(2026, 2, 15, 2, 0), 0),
        (utc(2026, 3, 22, 2, 0), H),
    ]
    assert PERIOD.start == utc(2025, 12, 31, 23, 0) and PERIOD.end == utc(2026, 3, 1, 0, 0)


def test_days_weeks_and_months_use_local_dates(db_session: Session, scenario: Scenario) -> None:
    lead = actor(scenario.lead)
    days = {b.start.isoformat(): b.counts for b in over_time(db_session, lead, PERIOD, "day")}
    assert len(days) == 59  # every day of the period, empty ones included
    assert {day: counts for day, counts in days.items() if counts} == {
        "2026-01-01": {"other": 1},
        "2026-01-16": {"fraud": 1, "malicious-code": 1},
        "2026-01-20": {"information-gathering": 1},
        "2026-02-20": {"malicious-code": 1},
        "2026-02-28": {"fraud": 1},
    }
    weeks = {b.start.isoformat(): b.total for b in over_time(db_session, lead, PERIOD, "week")}
    assert {week: n for week, n in weeks.items() if n} == {
        "2025-12-29": 1,
        "2026-01-12": 2,
        "2026-01-19": 1,
        "2026-02-16": 1,
        "2026-02-23": 1,
    }
    months = over_time(db_session, lead, PERIOD, "month")
    assert [(b.start.isoformat(), b.total) for b in months] == [
        ("2026-01-01", 4),
        ("2026-02-01", 2),
    ]


def test_mtta_mttr_and_sla_compliance_per_priority(db_session: Session, scenario: Scenario) -> None:
    groups = {
        g.key: g.figures
        for g in breakdown(db_session, actor(scenario.lead), PERIOD, "priority", now=NOW)
    }
    assert {key: f.count for key, f in groups.items()} == {"P1": 2, "P2": 2, "P3": 1, "P4": 1}
    p1, p2 = groups["P1"], groups["P2"]
    assert p1.mtta == pytest.approx(1.75 * H, abs=1)  # B 3 h, D 30 min
    assert p1.mttr == pytest.approx(30 * H, abs=1)  # B only: D is not resolved
    assert p2.mtta == pytest.approx(2 * H, abs=1) and p2.mttr == pytest.approx(48 * H, abs=1)
    assert (p1.ack_met, p1.ack_decided, p1.resolve_met, p1.resolve_decided) == (1, 2, 0, 2)
    # E: acknowledgement overdue (decided, missed); resolution not yet due (undecided)
    assert (p2.ack_met, p2.ack_decided, p2.resolve_met, p2.resolve_decided) == (1, 2, 1, 1)
    assert p2.ack_compliance == 0.5 and p2.resolve_compliance == 1.0
    assert groups["P3"].mtta is None and groups["P3"].ack_compliance == 0.0


def test_breakdowns_by_class_sector_and_organisation(
    db_session: Session, scenario: Scenario
) -> None:
    lead = actor(scenario.lead)

    def counts(dimension: str) -> dict[str, int]:
        groups = breakdown(db_session, lead, PERIOD, dimension, now=NOW)
        return {g.key: g.figures.count for g in groups}

    assert counts("category") == {
        "fraud": 2,
        "malicious-code": 2,
        "information-gathering": 1,
        "other": 1,
    }
    assert counts("sector") == {"government": 4, "health": 2}
    orgs = breakdown(db_session, lead, PERIOD, "organisation", now=NOW)
    assert [(g.key, g.figures.count, g.name) for g in orgs] == [
        ("min-interieur", 4, "Organisation min-interieur\t"),
        ("min-sante", 2, "Organisation min-sante\tوزارة الصحة"),
    ]
    assert open_by_priority(db_session, lead) == {"P1": 1, "P2": 2, "P3": 1, "P4": 1}


def test_an_analyst_does_not_count_red_incidents_they_cannot_see(
    db_session: Session, scenario: Scenario
) -> None:
    board = dashboard(db_session, actor(scenario.analyst), PERIOD, now=NOW, granularity="day")
    assert board.overall.count == 5  # D (TLP:RED) is left out everywhere
    p1 = next(g.figures for g in board.by_priority if g.key == "P1")
    assert p1.count == 1 and p1.mtta == pytest.approx(3 * H, abs=1)
    assert sum(b.counts.get("malicious-code", 0) for b in board.over_time) == 1
    assert board.open_by_priority["P1"] == 0
    assert sum(g.figures.count for g in board.by_organisation) == 5
    # once named on it, the analyst counts it
    scenario.incidents["D"].assignee_id = scenario.analyst.id
    db_session.flush()
    board = dashboard(db_session, actor(scenario.analyst), PERIOD, now=NOW)
    assert board.overall.count == 6 and board.open_by_priority["P1"] == 1


def test_a_reporter_never_sees_another_organisation_in_any_figure(
    db_session: Session, scenario: Scenario
) -> None:
    board = dashboard(db_session, actor(scenario.reporter_sante), PERIOD, now=NOW)
    assert board.overall.count == 2  # C and E
    assert [g.key for g in board.by_organisation] == ["min-sante"]
    assert [g.key for g in board.by_sector] == ["health"]
    assert board.categories == ["information-gathering", "fraud"]
    assert board.open_by_priority == {"P1": 0, "P2": 2, "P3": 0, "P4": 1}  # C, E and F
    assert sum(b.total for b in board.over_time) == 2


def test_the_granularity_follows_the_length_of_the_period() -> None:
    assert PERIOD.auto_granularity() == "day"
    assert Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31), ZONE).auto_granularity() == "week"
    assert Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31), ZONE).auto_granularity() == "month"
    last = Period.last_days(30, now=utc(2026, 1, 31, 23, 30), zone=ZONE)  # local Feb 1st
    assert (last.first, last.last) == (dt.date(2026, 1, 3), dt.date(2026, 2, 1))


@pytest.mark.parametrize(
    ("first", "last", "fields"),
    [
        (None, "2026-01-01", {"from"}),
        ("2026-13-01", "2026-01-01", {"from"}),
        ("2026-01-01", "yesterday", {"to"}),
        ("2026-02-01", "2026-01-01", {"to"}),
        ("2020-01-01", "2026-01-01", {"to"}),
        ("", "", {"from", "to"}),
    ],
)
def test_invalid_periods_name_the_parameter(
    first: str | None, last: str | None, fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_period(first, last, zone=ZONE)
    assert set(caught.value.fields) == fields


def test_the_dashboard_costs_the_same_queries_whatever_the_volume(
    db_session: Session, connection: Connection, clock: FrozenClock, scenario: Scenario
) -> None:
    def count() -> int:
        statements: list[str] = []

        def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            statements.append(statement)

        event.listen(connection, "before_cursor_execute", record)
        try:
            dashboard(db_session, actor(scenario.lead), PERIOD, now=NOW)
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return len(statements)

    few = count()
    user = make_user(db_session, clock, org=scenario.sante)
    for day in range(12):
        report(db_session, clock, user, "scan", utc(2026, 2, 1 + day, 9, 0))
    # the aggregate's zone; per day and class, per priority and organisation (the aggregate);
    # acknowledgements and resolutions overdue (live); the organisations' names; open now
    assert count() == few == 7


@pytest.mark.parametrize("who", ["lead", "analyst", "reporter_sante"])
@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_the_one_scan_dashboard_agrees_with_each_breakdown(
    db_session: Session, scenario: Scenario, who: str, granularity: Granularity
) -> None:
    """The dashboard reads the daily aggregate (figures per priority and organisation, summed
    three ways); the breakdowns the statistics use compute each incident's measures: the same
    figures, for every reader (durations: the aggregate sums milliseconds)."""
    reader = actor(getattr(scenario, who))
    board = dashboard(db_session, reader, PERIOD, now=NOW, granularity=granularity)
    assert board.over_time == over_time(db_session, reader, PERIOD, granularity)
    for dimension, groups in (
        ("priority", board.by_priority),
        ("organisation", board.by_organisation),
        ("sector", board.by_sector),
    ):
        expected = breakdown(db_session, reader, PERIOD, dimension, now=NOW)
        assert rounded(groups) == rounded(expected), dimension
    assert board.overall.count == sum(g.figures.count for g in board.by_organisation)
