"""``memory://`` rate limits use ``core.web.limits.LocalStorage``: limits' fixed-window counting
without a timer thread per hit; expired windows restart and are swept."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask_limiter import Limiter

from cert.app import create_app
from core.web import LocalStorage, limiter_storage_uri
from core.web import limits as web_limits


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
