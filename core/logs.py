"""Log lines: one JSON object per line (``CERT_LOG_FORMAT=json``, the default) or plain text,
each with the request id bound when it was written (:mod:`core.requestid`).

Only the composition root calls :func:`configure` (the app factory and the long-running
commands). A JSON line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
``request_id`` (absent outside a request or job), ``process``, the exception's traceback as
``exc_info`` when there is one, and the ``extra=`` fields of the call.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from core import requestid

HANDLER_NAME = "vigie"  # the root handler configure() installs (tests take it away)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (as logging's last-resort
    handler does), not to the stream of the moment it was made: a test runner or a daemoniser
    that swaps or closes standard error never leaves a handler writing to a closed file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the bound one, or ``-``) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = requestid.current() or "-"
        return True


class VigieJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with Vigie's field names and UTC times."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
        self.converter = _utc
        self.default_msec_format = "%s.%03dZ"
        self.default_time_format = "%Y-%m-%dT%H:%M:%S"

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        if log_data.get("request_id") == "-":
            del log_data["request_id"]


def _utc(seconds: float | None) -> Any:
    import time

    return time.gmtime(seconds)


def configure(log_format: str = "json", level: str = "INFO") -> None:
    """Send the root logger's records to stderr in ``log_format``; idempotent (the handler is
    replaced, not added again, when the app factory runs twice in one process)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    json_lines = log_format == "json"
    formatter = VigieJsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
