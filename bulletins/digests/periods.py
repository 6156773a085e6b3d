"""The period a digest covers (pure): the last one that ended at or before a moment.

A daily digest leaves every day at ``digest_time`` (local, ``CERT_TIMEZONE``) and covers the
24 hours before; a weekly one leaves on ``digest_weekday`` (ISO, 1 = Monday) at that time and
covers the 7 days before. A period is named by the local date it starts on (``period_start``
of :class:`bulletins.models.DigestRun`): the digest of Monday 7 December 2026 at 08:00 is "the
week of 30 November 2026". Periods follow the wall clock of the time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bulletins.models import DigestFrequency


@dataclass(frozen=True)
class Period:
    frequency: DigestFrequency
    start_date: dt.date  # local date the period starts on: DigestRun.period_start
    start: dt.datetime  # aware, UTC
    end: dt.datetime  # aware, UTC: when the digest is due


def last_period(
    frequency: DigestFrequency,
    now: dt.datetime,
    *,
    timezone: str,
    at: dt.time,
    weekday: int = 1,
) -> Period:
    """The last ``frequency`` period that ended at or before ``now`` (aware)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    end = dt.datetime.combine(local.date(), at, tzinfo=zone)
    if frequency == DigestFrequency.WEEKLY:
        end -= dt.timedelta(days=(local.isoweekday() - weekday) % 7)
        step = dt.timedelta(days=7)
    elif frequency == DigestFrequency.DAILY:
        step = dt.timedelta(days=1)
    else:
        raise ValueError(f"no digest period for {frequency!r}")
    if end > local:
        end -= step
    # aware arithmetic within one zone is wall-clock arithmetic: 08:00 stays 08:00 across a
    # change of offset (Morocco's Ramadan hour)
    start = end - step
    return Period(frequency, start.date(), start.astimezone(dt.UTC), end.astimezone(dt.UTC))
