"""Cron expressions of schedules (pure): five fields, as crontab writes them, read by
APScheduler's :class:`CronTrigger` in a time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

MAX_CRON = 100
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab: 0 (and 7) is Sunday


def _crontab_weekdays(field: str) -> str:
    """crontab's weekday field for APScheduler 3, which counts 0 as *Monday* (its
    ``from_crontab`` passes numbers through, so "1-5" would run Tuesday to Saturday): numbers,
    ranges and steps become the day names both agree on; names and ``*`` stay as they are."""
    if field == "*" or not any(c.isdigit() for c in field):
        return field
    days: list[str] = []
    for part in field.split(","):
        span, _, step = part.partition("/")
        if not any(c.isdigit() for c in span) and span != "*":
            days.append(part)  # a name or a range of names
            continue
        first, _, last = ("0-6" if span == "*" else span).partition("-")
        if not (first.isdigit() and (last or first).isdigit() and (step or "1").isdigit()):
            raise ValueError(f"invalid weekday {part!r}")
        low, high, every = int(first), int(last or first), int(step or "1")
        if high > 7 or low > high or every < 1:
            raise ValueError(f"invalid weekday {part!r} (0 to 7, 0 and 7 are Sunday)")
        days += [DAY_NAMES[n % 7] for n in range(low, high + 1, every)]
    return ",".join(dict.fromkeys(days))


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``ValueError`` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def parse_cron(expression: str, timezone: str) -> CronTrigger:
    """The trigger of ``"m h dom mon dow"`` in ``timezone``; ``ValueError`` naming the problem."""
    text = " ".join(expression.split())
    if not text or len(text) > MAX_CRON:
        raise ValueError(f"a cron expression has five fields, at most {MAX_CRON} characters")
    if len(text.split(" ")) != 5:
        raise ValueError(
            f"{text!r}: a cron expression has five fields (minute hour day month weekday)"
        )
    try:
        minute, hour, day, month, weekday = text.split(" ")
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday),
            timezone=zone(timezone),
        )
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def next_fire(expression: str, timezone: str, after: dt.datetime) -> dt.datetime:
    """The first slot strictly after ``after`` (UTC, microseconds dropped)."""
    trigger = parse_cron(expression, timezone)
    start = after.astimezone(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    fire: dt.datetime | None = trigger.get_next_fire_time(None, start)
    if fire is None:  # an expression with no future slot (e.g. 30 February)
        raise ValueError(f"{expression!r} never fires")
    return fire.astimezone(dt.UTC)
