"""The queue filters behind the dashboard's bars (pure, Flask-free): each bar, segment and row
of a chart links to ``/queue`` showing the incidents it counts.

The parameters are the queue's (``incidents.queue.filter.QueueFilter``): ``received_from`` and
``received_to`` (local days, inclusive, like the dashboard's period), ``category``,
``priority``, ``organisation`` (slug), ``sector``, ``status`` (``open``). The reporting and
queue packages do not import each other; ``tests/incidents/reporting/test_links.py`` parses
every link of a dashboard with the queue's filter and checks that it counts what the bar shows.
"""

from __future__ import annotations

import datetime as dt

from incidents.reporting.periods import Granularity, Period, next_bucket

Args = dict[str, str]


def period_args(period: Period) -> Args:
    return {"received_from": period.first.isoformat(), "received_to": period.last.isoformat()}


def bucket_args(start: dt.date, granularity: Granularity, period: Period) -> Args:
    """The days of the bucket starting on ``start`` that are in the period."""
    last = next_bucket(start, granularity) - dt.timedelta(days=1)
    first, last = max(start, period.first), min(last, period.last)
    return {"received_from": first.isoformat(), "received_to": last.isoformat()}


def in_period(period: Period, **filters: str) -> Args:
    return {**period_args(period), **filters, "sort": "-received"}


def open_now(priority: str) -> Args:
    return {"status": "open", "priority": priority, "sort": "-received"}
