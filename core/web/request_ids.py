"""The request id of every web request (:mod:`core.requestid`) and its access log line.

First of the web kit's hooks: the id is accepted from ``X-Request-ID`` (or made), bound for
everything the request does — log lines, domain events, outbox rows — and returned in the
response's ``X-Request-ID``. When the request ends, one ``vigie.access`` line records the
method, path, matched route, status and duration (gunicorn's own access log is off: this one
is structured and carries the id).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from core import requestid

access_log = logging.getLogger("vigie.access")


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _bind)
    app.after_request(_answer)
    app.teardown_request(_unbind)


def _bind() -> None:
    g.request_started = time.perf_counter()
    g.request_id = requestid.accepted(request.headers.get(requestid.HEADER))
    g.request_id_token = requestid.bind(g.request_id)


def started() -> float | None:
    """When this request began (``time.perf_counter``), for the latency metrics."""
    value = g.get("request_started")
    return value if isinstance(value, float) else None


def _answer(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # an error before the first hook ran: still answer with an id
        request_id = requestid.accepted(request.headers.get(requestid.HEADER))
    response.headers[requestid.HEADER] = request_id
    began = started()
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "status": response.status_code,
            "duration_ms": None if began is None else round((time.perf_counter() - began) * 1e3, 2),
            "remote_addr": request.remote_addr,
            "request_id": request_id,
        },
    )
    return response


def _unbind(_exc: BaseException | None = None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        requestid.unbind(token)
