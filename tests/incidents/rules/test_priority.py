from __future__ import annotations

import datetime as dt

import pytest

from incidents.rules.priority import (
    DEFAULT_SLA,
    Level,
    Priority,
    deadlines,
    parse_sla_policy,
    priority_for,
)

T0 = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        ("critical", "critical", "P1"),
        ("critical", "high", "P1"),
        ("critical", "medium", "P2"),
        ("critical", "low", "P2"),
        ("high", "critical", "P1"),
        ("high", "high", "P2"),
        ("high", "medium", "P2"),
        ("high", "low", "P3"),
        ("medium", "critical", "P2"),
        ("medium", "high", "P2"),
        ("medium", "medium", "P3"),
        ("medium", "low", "P4"),
        ("low", "critical", "P3"),
        ("low", "high", "P3"),
        ("low", "medium", "P4"),
        ("low", "low", "P4"),
    ],
)
def test_matrix(impact: str, urgency: str, expected: str) -> None:
    assert priority_for(impact, urgency) == Priority(expected)


def test_matrix_is_monotonic() -> None:
    levels = list(Level)
    for i, impact in enumerate(levels):
        for j, urgency in enumerate(levels):
            p = int(priority_for(impact, urgency)[1])
            if i + 1 < len(levels):
                assert int(priority_for(levels[i + 1], urgency)[1]) <= p
            if j + 1 < len(levels):
                assert int(priority_for(impact, levels[j + 1])[1]) <= p


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError):
        priority_for("huge", "low")


def test_deadlines_follow_the_policy() -> None:
    d = deadlines(Priority.P1, T0)
    assert d.acknowledge_by == T0 + dt.timedelta(hours=1)
    assert d.resolve_by == T0 + dt.timedelta(hours=24)
    assert d.early_warning_by is None and d.final_report_by is None


def test_significant_incidents_carry_nis2_deadlines() -> None:
    aware = T0 - dt.timedelta(hours=5)
    d = deadlines(Priority.P2, T0, significant=True, aware_at=aware)
    assert d.early_warning_by == aware + dt.timedelta(hours=24)
    assert d.notification_by == aware + dt.timedelta(hours=72)
    # notification 3 Feb 05:00 → final report one month later
    assert d.final_report_by == dt.datetime(2026, 3, 3, 5, 0, tzinfo=dt.UTC)


def test_month_end_clamps() -> None:
    d = deadlines(Priority.P4, dt.datetime(2026, 1, 28, 12, tzinfo=dt.UTC), significant=True)
    # notification on 31 Jan → final report on 28 Feb (no 31 Feb)
    assert d.final_report_by == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)


def test_policy_parsing() -> None:
    policy = parse_sla_policy("P1=30m/12h, p4=5d/60d")
    assert policy[Priority.P1].acknowledge == dt.timedelta(minutes=30)
    assert policy[Priority.P4].resolve == dt.timedelta(days=60)
    assert policy[Priority.P2] == DEFAULT_SLA[Priority.P2]


@pytest.mark.parametrize(
    "text",
    [
        *("P5=1h/2h", "P1=1h", "P1=2h/1h", "P1=xh/2h", "P1=0h/1h", "P1"),
        *("P1=1h/367d", "P1=9000h/9000h", "P1=1h/99999999999999999999d"),  # over a year
        *("P1=١h/2h", "P1=1h/２d"),  # digits of other scripts
    ],
)
def test_bad_policy_names_the_entry(text: str) -> None:
    with pytest.raises(ValueError, match="invalid SLA entry"):
        parse_sla_policy(text)


def test_a_policy_without_entries_is_refused_and_an_empty_one_is_the_default() -> None:
    for text in (",", " , ,"):
        with pytest.raises(ValueError, match="invalid SLA policy"):
            parse_sla_policy(text)
    assert parse_sla_policy("") == DEFAULT_SLA
