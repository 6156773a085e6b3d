"""The series read from the database at scrape time (a custom prometheus-client collector).

Every scrape runs a few aggregate queries in one read-only transaction, bounded by a statement
timeout on PostgreSQL, so the figures are exact whichever process or host answers. When the
database does not answer, or a query fails, the scrape still succeeds: ``vigie_database_up`` is
0 and no database-derived series is given (a half set of figures would mislead).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.clock import Clock
from core.db import SessionFactory
from core.observability.kernel import kernel_metrics

log = logging.getLogger(__name__)

# a source of series: a slice's (``Slice.metrics``) or the application's; it is given the
# scrape's session and the time now (windows such as "the last 24 hours")
Source = Callable[[Session, dt.datetime], Iterable[Metric]]
STATEMENT_TIMEOUT_MS = 3000


class DatabaseCollector(Collector):
    """``vigie_database_up`` and, when it is 1, the kernel's series and those of ``sources``."""

    def __init__(
        self, session_factory: SessionFactory, clock: Clock, sources: Sequence[Source] = ()
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.sources = tuple(sources)

    def collect(self) -> Iterator[Metric]:
        try:
            found = self._read()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            found = []
            up = 0
        else:
            up = 1
        yield GaugeMetricFamily(
            "vigie_database_up", "1 when the database answered this scrape's queries", value=up
        )
        yield from found

    def _read(self) -> list[Metric]:
        session = self.session_factory()
        try:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
            now = self.clock.now()
            found = list(kernel_metrics(session, now))
            for source in self.sources:
                found.extend(source(session, now))
            return found
        finally:
            session.close()  # read only: its transaction (and the timeout) end unkept
