"""The playbooks' series for ``/metrics`` (``Slice.metrics``), read at scrape time:
``vigie_playbook_runs{status}``, the runs by status (pending, running and waiting ones are the
engine's work in hand; failed ones need a look), counted on ``ix_playbook_runs_status_wake``.
Playbook names are not labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playbooks.models import PlaybookRun, RunStatus


def playbook_metrics(session: Session, _now: dt.datetime) -> Iterator[Metric]:
    runs = GaugeMetricFamily(
        "vigie_playbook_runs", "Playbook runs by status (all kept runs)", labels=["status"]
    )
    counts = dict.fromkeys(RunStatus, 0)
    rows = session.execute(select(PlaybookRun.status, func.count()).group_by(PlaybookRun.status))
    for status, count in rows:
        counts[RunStatus(status)] = int(count)
    for status, count in counts.items():
        runs.add_metric([status.value], count)
    yield runs
