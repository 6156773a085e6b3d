"""Priority and SLA rules (pure): impact × urgency → P1–P4, and the due dates that follow.

Priority matrix (rows: impact, columns: urgency), after ITIL and ENISA's CSIRT practice:

    impact \\ urgency   critical  high  medium  low
    critical              P1       P1     P2     P2
    high                  P1       P2     P2     P3
    medium                P2       P2     P3     P4
    low                   P3       P3     P4     P4

Default SLA policy (acknowledge-by / resolve-by, counted from reception), configurable:

    P1  1 h  / 24 h      P2  4 h / 3 days      P3  24 h / 10 days      P4  72 h / 30 days

Significant incidents (NIS2 Art. 23) also carry the notification deadlines counted from awareness:
early warning 24 h, incident notification 72 h, final report one month after the notification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from incidents.models import Level as Level  # re-exported: the vocabulary lives with the models
from incidents.models import Priority as Priority

_MATRIX: dict[Level, dict[Level, Priority]] = {
    Level.CRITICAL: {
        Level.CRITICAL: Priority.P1,
        Level.HIGH: Priority.P1,
        Level.MEDIUM: Priority.P2,
        Level.LOW: Priority.P2,
    },
    Level.HIGH: {
        Level.CRITICAL: Priority.P1,
        Level.HIGH: Priority.P2,
        Level.MEDIUM: Priority.P2,
        Level.LOW: Priority.P3,
    },
    Level.MEDIUM: {
        Level.CRITICAL: Priority.P2,
        Level.HIGH: Priority.P2,
        Level.MEDIUM: Priority.P3,
        Level.LOW: Priority.P4,
    },
    Level.LOW: {
        Level.CRITICAL: Priority.P3,
        Level.HIGH: Priority.P3,
        Level.MEDIUM: Priority.P4,
        Level.LOW: Priority.P4,
    },
}


def priority_for(impact: Level | str, urgency: Level | str) -> Priority:
    return _MATRIX[Level(impact)][Level(urgency)]


@dataclass(frozen=True)
class SlaTarget:
    acknowledge: dt.timedelta
    resolve: dt.timedelta


DEFAULT_SLA: Mapping[Priority, SlaTarget] = {
    Priority.P1: SlaTarget(dt.timedelta(hours=1), dt.timedelta(hours=24)),
    Priority.P2: SlaTarget(dt.timedelta(hours=4), dt.timedelta(days=3)),
    Priority.P3: SlaTarget(dt.timedelta(hours=24), dt.timedelta(days=10)),
    Priority.P4: SlaTarget(dt.timedelta(hours=72), dt.timedelta(days=30)),
}


@dataclass(frozen=True)
class Deadlines:
    acknowledge_by: dt.datetime
    resolve_by: dt.datetime
    early_warning_by: dt.datetime | None = None
    notification_by: dt.datetime | None = None
    final_report_by: dt.datetime | None = None


MAX_SLA = dt.timedelta(days=366)  # no SLA target is longer than a year


def parse_sla_policy(text: str) -> dict[Priority, SlaTarget]:
    """``P1=1h/24h,P2=4h/3d,P3=24h/10d,P4=72h/30d`` → policy; ``ValueError`` names the bad part.

    The one grammar of ``CERT_SLA_POLICY`` (:func:`incidents.settings.from_config`): priorities
    left out keep their default; ``""`` is the default policy, a text without entries is refused.
    """
    policy = dict(DEFAULT_SLA)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if text and not parts:
        raise ValueError(f"invalid SLA policy {text!r}; expected e.g. P1=1h/24h,P2=4h/3d")
    for part in parts:
        try:
            name, targets = part.split("=", 1)
            ack, resolve = (_duration(v) for v in targets.split("/", 1))
            policy[Priority(name.strip().upper())] = SlaTarget(ack, resolve)
        except (ValueError, KeyError):
            raise ValueError(
                f"invalid SLA entry {part!r}; expected e.g. P1=1h/24h, each at most 366d"
            ) from None
        if resolve < ack:
            raise ValueError(f"invalid SLA entry {part!r}: resolve time before acknowledge time")
    return policy


def _duration(text: str) -> dt.timedelta:
    text = text.strip().lower()
    units = {"m": "minutes", "h": "hours", "d": "days"}
    digits = text[:-1]  # ASCII only: str.isdigit() also takes other scripts' digits
    if not (len(text) >= 2 and text[-1] in units and digits.isascii() and digits.isdigit()):
        raise ValueError(text)
    if len(text) > 7 or int(digits) <= 0:  # 999999m is under two years; longer is a typo
        raise ValueError(text)
    duration = dt.timedelta(**{units[text[-1]]: int(digits)})
    if duration > MAX_SLA:
        raise ValueError(text)
    return duration


def deadlines(
    priority: Priority,
    received_at: dt.datetime,
    *,
    significant: bool = False,
    aware_at: dt.datetime | None = None,
    policy: Mapping[Priority, SlaTarget] = DEFAULT_SLA,
) -> Deadlines:
    """Due dates for an incident received at ``received_at`` (aware_at defaults to it)."""
    target = policy[priority]
    base = Deadlines(received_at + target.acknowledge, received_at + target.resolve)
    if not significant:
        return base
    start = aware_at or received_at
    notification = start + dt.timedelta(hours=72)
    return Deadlines(
        base.acknowledge_by,
        base.resolve_by,
        early_warning_by=start + dt.timedelta(hours=24),
        notification_by=notification,
        final_report_by=_add_month(notification),
    )


def _add_month(when: dt.datetime) -> dt.datetime:
    """Same day next month, clamped to the month's last day (31 Jan → 28/29 Feb)."""
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    for day in (when.day, 30, 29, 28):
        try:
            return when.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")
