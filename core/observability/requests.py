"""The request series (in-process): a latency histogram and a counter by route template, method
and status class.

The route is the matched URL rule (``/incidents/<reference>``), ``unmatched`` when no rule
matched: a raw path (references, addresses, anything a client types) never becomes a label.
Methods outside the standard ones count as ``other``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
# seconds: from a cached page (5 ms) to a large export (10 s)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LABELS = ("route", "method", "status")


class RequestMetrics:
    """``vigie_http_request_duration_seconds`` and ``vigie_http_requests_total``.

    ``registry`` is the application's scrape registry in a single process; ``None`` in
    multiprocess mode (the values then go to the per-process files that
    :class:`prometheus_client.multiprocess.MultiProcessCollector` adds up).
    """

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.duration = Histogram(
            "vigie_http_request_duration_seconds",
            "Time from the request's first hook to its response, by route template",
            LABELS,
            buckets=BUCKETS,
            registry=registry,
        )
        self.total = Counter(
            "vigie_http_requests",
            "Requests answered, by route template, method and status class",
            LABELS,
            registry=registry,
        )

    def observe(self, route: str | None, method: str, status: int, seconds: float) -> None:
        labels = (route or UNMATCHED, method_label(method), status_class(status))
        self.duration.labels(*labels).observe(max(seconds, 0.0))
        self.total.labels(*labels).inc()


def method_label(method: str) -> str:
    upper = method.upper()
    return upper if upper in METHODS else "other"


def status_class(status: int) -> str:
    """``2xx``…``5xx`` (anything else: ``other``)."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"
