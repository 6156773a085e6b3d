"""The feeds' series for ``/metrics`` (``Slice.metrics``), read at scrape time.

* ``vigie_feed_runs{status, trigger}``: runs started in the last 24 hours by outcome
  (succeeded, partial, failed, running) and what started them;
* ``vigie_feeds{last_status}``: enabled feeds by the outcome of their last run (``never``:
  not run yet) — a failing source shows here until its next good run.

Feed names are not labels: the figures stay few whatever the number of sources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feeds.models import Feed, FeedRun, RunStatus, RunTrigger

WINDOW = dt.timedelta(days=1)


def feed_metrics(session: Session, now: dt.datetime) -> Iterator[Metric]:
    runs = GaugeMetricFamily(
        "vigie_feed_runs",
        "Feed polls and imports started in the last 24 hours, by outcome and trigger",
        labels=["status", "trigger"],
    )
    counts = {(status, trigger): 0 for status in RunStatus for trigger in RunTrigger}
    rows = session.execute(
        select(FeedRun.status, FeedRun.trigger, func.count())
        .where(FeedRun.started_at >= now - WINDOW)
        .group_by(FeedRun.status, FeedRun.trigger)
    )
    for status, trigger, count in rows:
        counts[(RunStatus(status), RunTrigger(trigger))] = int(count)
    for (status, trigger), count in counts.items():
        runs.add_metric([status.value, trigger.value], count)
    yield runs
    feeds = GaugeMetricFamily(
        "vigie_feeds",
        "Enabled feeds by the outcome of their last run (never: not run yet)",
        labels=["last_status"],
    )
    by_status = dict.fromkeys([*(s.value for s in RunStatus), "never"], 0)
    last = session.execute(
        select(Feed.last_status, func.count()).where(Feed.enabled).group_by(Feed.last_status)
    )
    for last_status, count in last:
        by_status["never" if last_status is None else RunStatus(last_status).value] = int(count)
    for status_name, count in by_status.items():
        feeds.add_metric([status_name], count)
    yield feeds
