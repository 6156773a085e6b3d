"""``memory://`` rate limits use ``core.web.limits.LocalStorage``: limits' fixed-window counting
without a timer thread per hit; expired windows restart and are swept."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import pytest
import redis
from flask_limiter import Limiter
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.web import LocalStorage, limiter_storage_uri
from core.web import limits as web_limits
from tests.kit.web import csrf_token


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(web_limits, "time", fake)
    return fake


def test_a_window_counts_hits_until_it_expires(fake_time: FakeTime) -> None:
    storage = LocalStorage()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get("other") == 0
    assert storage.get_expiry("k") == fake_time.now + 60
    fake_time.now += 59.9
    assert storage.incr("k", 60) == 4  # same window: its end does not move
    fake_time.now += 0.2
    assert storage.get("k") == 0 and storage.get_expiry("k") == fake_time.now
    assert storage.incr("k", 60) == 1  # a new window
    storage.clear("k")
    assert storage.get("k") == 0


def test_expired_windows_are_swept_by_a_later_hit(fake_time: FakeTime) -> None:
    storage = LocalStorage()
    for n in range(100):
        storage.incr(f"client-{n}", 60)
    fake_time.now += LocalStorage.SWEEP_SECONDS + 60
    storage.incr("late", 60)
    assert storage.reset() == 1  # only "late" was left


def test_hits_start_no_thread() -> None:
    storage = LocalStorage()
    before = threading.active_count()
    for n in range(200):
        storage.incr(f"k{n % 7}", 1)
    assert threading.active_count() == before


def test_memory_settings_select_it_and_others_stay(settings: dict[str, Any]) -> None:
    assert limiter_storage_uri("memory://") == "vigie-memory://"
    assert limiter_storage_uri("redis://cache:6379/1") == "redis://cache:6379/1"
    app = create_app(settings)
    limiter: Limiter = app.extensions["vigie_limiter"]
    assert isinstance(limiter.storage, LocalStorage)


REDIS = "redis://127.0.0.1:6379/5"  # this suite's Redis database for shared limits (flushed)

# its tests share Redis database 5 (flushed): one pytest-xdist worker runs them all
pytestmark = pytest.mark.xdist_group("redis-5")


def _attempts(app: Any, count: int) -> list[int]:
    """``count`` failed sign-ins (wrong password, valid form) from one client address."""
    client = app.test_client()
    form = {"csrf_token": csrf_token(client.get("/login").get_data(as_text=True)),
            "email": "nobody@example.org", "password": "wrong"}  # fmt: skip
    return [client.post("/login", data=form).status_code for _ in range(count)]


def test_two_apps_on_redis_share_one_count(
    settings: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    """Two web processes (two apps here) count sign-in attempts together in Redis."""
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    try:
        shared = {**settings, "ratelimit_storage_url": REDIS, "login_rate_limit": "3 per minute"}
        # on the test's rolled-back connection: the failed sign-ins' audit rows go with it
        first = create_app(shared, session_factory=session_factory)
        second = create_app(shared, session_factory=session_factory)
        assert web_limits.limiter_storage_options(REDIS) == {
            "socket_connect_timeout": 1,
            "socket_timeout": 1,
        }
        assert first.extensions["vigie_limiter"].storage.check()
        assert 429 not in _attempts(first, 2) + _attempts(second, 1)
        assert _attempts(second, 1) == [429] and _attempts(first, 1) == [429]
    finally:
        client.flushdb()
        client.close()


def test_an_unreachable_storage_falls_back_to_memory_with_a_warning(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis down must not stop sign-in or intake: counts go on in this process's memory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nobody listens there once the probe is closed
    down = {
        **settings,
        "ratelimit_storage_url": f"redis://127.0.0.1:{closed}/5",
        "login_rate_limit": "2 per minute",
    }
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    statuses = _attempts(create_app(down, session_factory=session_factory), 3)
    assert 500 not in statuses and statuses[2] == 429 and 429 not in statuses[:2]
    assert "Rate limit storage unreachable - falling back to in-memory storage" in caplog.text


def test_a_silent_storage_does_not_hold_requests(
    settings: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    """A Redis host that accepts connections but never answers (a hung server, a half-open
    link): the storage's 1 s time-outs end the wait and the limiter falls back to memory."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes the handshakes; nothing ever reads or answers
        port = silent.getsockname()[1]
        hung = {**settings, "ratelimit_storage_url": f"redis://127.0.0.1:{port}/5"}
        app, statuses = create_app(hung, session_factory=session_factory), list[int]()
        worker = threading.Thread(target=lambda: statuses.extend(_attempts(app, 2)), daemon=True)
        worker.start()
        worker.join(timeout=60)  # a deadline for a hang, not a measure: without time-outs, never
        assert not worker.is_alive(), "a sign-in waited on the silent storage"
    assert statuses and 500 not in statuses and 429 not in statuses
