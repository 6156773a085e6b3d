"""``/metrics`` (Prometheus text format) and the per-request latency series.

Who may read it: a request carrying ``Authorization: Bearer <CERT_METRICS_TOKEN>`` (compared in
constant time), or one whose address is in ``CERT_METRICS_ALLOW``. The address is the peer's, or
the one the trusted reverse proxies report when ``CERT_PROXY_COUNT`` > 0 (ProxyFix rewrote it
before this runs); with 0 an ``X-Forwarded-For`` header is ignored, so a client cannot claim an
allowed address. Anyone else gets the site's ordinary 404 page: the endpoint is not advertised.

The scrape is answered by the first hook after the request id's, before the language, the
signed-in user and the rate limiter: no session is read or written, no cookie set, no limit
counted, and it is not an API route (absent from the OpenAPI document). The database-derived
series never make it fail: with the database down the answer is still 200, with
``vigie_database_up 0`` (:mod:`core.observability.database`).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import InfoMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from core.observability import process
from core.observability.database import DatabaseCollector, Source
from core.observability.requests import RequestMetrics
from core.web import WebContext
from core.web.request_ids import started

ENDPOINT = "metrics"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BuildInfo(Collector):
    """``vigie_build_info{version, revision}``: the code's version and its Alembic head."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = dict(labels)

    def collect(self) -> list[Metric]:
        info = InfoMetricFamily("vigie_build", "The running code: version and Alembic head")
        info.add_metric([], self.labels)
        return [info]


class Metrics:
    """What one application keeps in ``app.extensions["vigie_metrics"]``."""

    def __init__(self, token: str, allow: Sequence[Network], registry: CollectorRegistry) -> None:
        self.token = token.encode()
        self.allow = tuple(allow)
        self.registry = registry
        self.requests: RequestMetrics | None = None


def init_app(
    app: Flask, ctx: WebContext, sources: Sequence[Source], build: Mapping[str, str]
) -> None:
    """Serve ``/metrics`` and count every request of ``app``."""
    registry, shared = process.scrape_registry()
    metrics = Metrics(ctx.settings.metrics_token, networks(ctx.settings.metrics_allow), registry)
    metrics.requests = RequestMetrics(None if shared else registry)
    registry.register(DatabaseCollector(ctx.session_factory, ctx.clock, sources))
    registry.register(BuildInfo(build))
    app.extensions["vigie_metrics"] = metrics
    # every method matches, so that a refused caller gets 404 whatever it sends (not a 405
    # that would tell the address exists)
    app.add_url_rule("/metrics", ENDPOINT, scrape, methods=METHODS, provide_automatic_options=False)
    before = app.before_request_funcs.setdefault(None, [])
    before.insert(1 if before else 0, _answer_scrape)  # right after the request id is bound
    app.after_request(_observe)


def networks(raw: str) -> list[Network]:
    """``CERT_METRICS_ALLOW`` as networks (already validated by the configuration)."""
    return [ipaddress.ip_network(word, strict=False) for word in raw.split(",") if word.strip()]


def _state() -> Metrics:
    state: Metrics = current_app.extensions["vigie_metrics"]
    return state


def allowed(state: Metrics, authorization: str | None, address: str | None) -> bool:
    """The bearer token matches (constant time), or the address is in an allowed network."""
    if state.token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), state.token):
            return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in state.allow)


def scrape() -> Response:
    """The view of ``/metrics`` (answered by :func:`_answer_scrape` before any other hook)."""
    state = _state()
    if not allowed(state, request.headers.get("Authorization"), request.remote_addr):
        abort(404)
    if request.method not in ("GET", "HEAD"):
        abort(405)
    response = Response(generate_latest(state.registry), mimetype=None)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer_scrape() -> Any:
    if request.endpoint != ENDPOINT:
        return None
    return scrape()


def _observe(response: Response) -> Response:
    began = started()
    state = current_app.extensions.get("vigie_metrics")
    if began is not None and isinstance(state, Metrics) and state.requests is not None:
        rule = request.url_rule.rule if request.url_rule is not None else None
        state.requests.observe(
            rule, request.method, response.status_code, time.perf_counter() - began
        )
    return response
