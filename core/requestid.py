"""The request id: one opaque string that follows a piece of work through every process.

The web kit accepts it from ``X-Request-ID`` (or makes one), returns it in the response, and
binds it for the request; the log lines, the domain events and the outbox messages written
meanwhile carry it; the event dispatcher binds an event's id again while its handlers run, so
the e-mail a submission causes, sent later by the scheduler, names the request that caused it.
A scheduled job gets an id of its own (``job-…``), recorded in ``job_runs``. Flask-free.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
MAX_LENGTH = 64  # the columns' width; a longer id from a client is replaced, not cut

# what a client's id may be made of: letters, digits and . _ : - (a UUID, a trace id, a proxy's
# own format); anything else (spaces, quotes, control characters) could forge a log line
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_current: ContextVar[str | None] = ContextVar("vigie_request_id", default=None)


def current() -> str | None:
    """The id bound in this context (request, job, event handler), or None."""
    return _current.get()


def new(prefix: str = "") -> str:
    """A fresh id: 32 hexadecimal digits, after ``prefix`` (``job-`` for scheduled jobs)."""
    return f"{prefix}{uuid.uuid4().hex}"


def accepted(header: str | None) -> str:
    """The client's id when it is well formed, else a fresh one."""
    if header is not None and _ACCEPTED.fullmatch(header):
        return header
    return new()


def bind(request_id: str | None) -> object:
    """Bind ``request_id`` in this context; the token to give :func:`unbind`."""
    return _current.set(request_id)


def unbind(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


@contextmanager
def bound(request_id: str | None) -> Iterator[str | None]:
    """Run a block with ``request_id`` bound (None: keep the one already bound)."""
    if request_id is None:
        yield current()
        return
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)
