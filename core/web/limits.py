"""Rate limits of the web kit (Flask-Limiter): per-endpoint limits, the in-process counter
storage, and the headers of limited answers — ``X-RateLimit-*`` on each, ``Retry-After`` only on
a refusal. :func:`core.web.init_app` sets the limiter up; ``core.web`` re-exports the names.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import cast

from flask import Flask, Response, current_app
from flask.typing import ResponseReturnValue
from flask_limiter import HeaderNames, Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import Storage


class LocalStorage(Storage):
    """In-process fixed-window counters for Flask-Limiter (``memory://`` in the settings).

    Same counting as limits' ``MemoryStorage`` for the fixed-window strategy (Flask-Limiter's
    default), without its timer thread: that one is started again on most hits, which costs
    more than the whole check. Expired keys are dropped when read, and swept at most every
    ``SWEEP_SECONDS`` by the hit that comes due. Other strategies need another storage.
    """

    STORAGE_SCHEME = ["vigie-memory"]
    SWEEP_SECONDS = 10.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        self._counts: dict[str, int] = {}
        self._expiries: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_sweep = time.time() + self.SWEEP_SECONDS
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            if self._expiries.get(key, 0.0) <= now:
                self._counts[key], self._expiries[key] = 0, now + expiry
            self._counts[key] += amount
            return self._counts[key]

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0) if self._expiries.get(key, 0.0) > time.time() else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._lock:
            expiry = self._expiries.get(key, now)
        return expiry if expiry > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
            self._expiries.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
            self._expiries.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [key for key, expiry in self._expiries.items() if expiry <= now]:
            del self._counts[key], self._expiries[key]
        self._next_sweep = now + self.SWEEP_SECONDS


# The limiter's own Retry-After goes under this name (dropped before the answer leaves): it would
# put one on every limited answer, 201 and 302 included, and overwrite the 503's back-off.
LIMITER_RETRY_AFTER = "X-Vigie-Limiter-Retry-After"


def retry_after_on_refusals(response: Response) -> Response:
    """Only a refusal carries ``Retry-After``: a 429 the whole seconds until its rate-limit
    window resets, a 503 its own back-off (set by :func:`_database_unavailable`). The
    ``X-RateLimit-Limit/-Remaining/-Reset`` headers stay on every rate-limited answer."""
    response.headers.pop(LIMITER_RETRY_AFTER, None)
    if response.status_code == 429 and "Retry-After" not in response.headers:
        limiter: Limiter = current_app.extensions["vigie_limiter"]
        breached = limiter.current_limit
        if breached is not None:
            seconds = math.ceil(breached.window.reset_time - time.time())
            response.headers["Retry-After"] = str(max(1, seconds))
    return response


def limiter_storage_uri(url: str) -> str:
    """The in-process storage for ``memory://``; any other storage URL unchanged."""
    return "vigie-memory://" if url == "memory://" else url


# A shared storage (Redis) answers in a millisecond or is down: a request must not wait on it for
# the operating system's TCP time-outs (minutes for a silent host) before falling back.
SHARED_STORAGE_TIMEOUT_SECONDS = 1


def limiter_storage_options(url: str) -> dict[str, str | int]:
    """Connection options of the shared storages: short connect and read time-outs (Redis)."""
    if url.split(":", 1)[0] in {"redis", "rediss", "redis+unix"}:
        return {
            "socket_connect_timeout": SHARED_STORAGE_TIMEOUT_SECONDS,
            "socket_timeout": SHARED_STORAGE_TIMEOUT_SECONDS,
        }
    return {}


def rate_limit(
    app: Flask,
    endpoint: str,
    limit: str,
    *,
    methods: Sequence[str],
    key: Callable[[], str] | None = None,
) -> None:
    """Limit ``endpoint`` to ``limit`` (e.g. "10 per minute") per client address, or per
    ``key()`` when given (the API limits per bearer token).

    Each app has its own limiter (storage ``settings.ratelimit_storage_url``, ``memory://``
    meaning :class:`LocalStorage`); an invalid limit
    stops start-up instead of silently disabling the limit.
    """
    try:
        parse_many(limit)
    except ValueError:
        raise ValueError(f"invalid rate limit {limit!r} for {endpoint}") from None
    limiter: Limiter = app.extensions["vigie_limiter"]
    view = cast(Callable[..., ResponseReturnValue], app.view_functions[endpoint])
    app.view_functions[endpoint] = limiter.limit(limit, methods=list(methods), key_func=key)(view)


def init_limiter(app: Flask, storage_url: str) -> Limiter:
    """The app's limiter (``app.extensions["vigie_limiter"]``), limits declared later with
    :func:`rate_limit`; the limiter's own ``Retry-After`` is renamed, then dropped or moved to a
    429 by :func:`retry_after_on_refusals`.

    With a shared storage (Redis, for several web processes or hosts), a storage that cannot be
    reached does not stop intake or sign-in: the limiter logs a warning ("Rate limit storage
    unreachable - falling back to in-memory storage", logger ``flask-limiter``), counts in this
    process's memory meanwhile (each process then allows the whole limit), checks the storage
    again after 1, 2, 4 … 32 s and logs "Rate limit storage recovered" when it is back."""
    app.after_request(retry_after_on_refusals)  # registered first: runs after the limiter's
    shared = storage_url != "memory://"
    limiter = Limiter(
        get_remote_address,
        storage_uri=limiter_storage_uri(storage_url),
        storage_options=limiter_storage_options(storage_url),
        in_memory_fallback_enabled=shared,
        headers_enabled=True,
        header_name_mapping={HeaderNames.RETRY_AFTER: LIMITER_RETRY_AFTER},
        key_prefix="vigie",
    )
    limiter.init_app(app)
    app.extensions["vigie_limiter"] = limiter
    return limiter
