"""Cron expressions of schedules (pure): five fields, as crontab writes them, read by
APScheduler's :class:`CronTrigger` in a time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

MAX_CRON = 100


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
        return CronTrigger.from_crontab(text, timezone=zone(timezone))
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
