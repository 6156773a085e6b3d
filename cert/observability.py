"""The application's own series for ``/metrics`` (composition root): the scheduler's leadership
(read from the leader lock, :func:`cert.scheduler.leader.leadership`) and the build's labels.
The kernel's series and the slices' (``Slice.metrics``) come from :mod:`core.observability`."""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.orm import Session

from cert import schema
from cert.scheduler.leader import leadership
from core.config import Config
from core.observability.database import Source


def leader_source(config: Config) -> Source:
    """``vigie_scheduler_leader`` (whether any scheduler leads) and
    ``vigie_scheduler_leader_info{runner}`` (which one: ``host:pid``)."""

    def leader_metrics(session: Session, _now: dt.datetime) -> Iterator[Metric]:
        state = leadership(config, session)
        yield GaugeMetricFamily(
            "vigie_scheduler_leader",
            "1 when a scheduler process holds the leader lock (jobs run), 0 when none does",
            value=1 if state.held else 0,
        )
        holder = GaugeMetricFamily(
            "vigie_scheduler_leader_info",
            "The scheduler process holding the leader lock now (host:pid), 1",
            labels=["runner"],
        )
        if state.held:
            holder.add_metric([state.runner or "unknown"], 1)
        yield holder

    return leader_metrics


@functools.cache
def build_labels() -> dict[str, str]:
    """``vigie_build_info``'s labels: the package version and the code's Alembic head."""
    try:
        version = importlib.metadata.version("vigie")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {"version": version, "revision": schema.head_revision() or "none"}
