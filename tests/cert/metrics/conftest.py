"""The /metrics tests' application: a metrics token, only 10.0.0.0/8 allowed without it, a
leader-lock key of the test's own (other suites' schedulers share the PostgreSQL server)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.clock import FrozenClock
from tests.cert.metrics.kit import TOKEN


@pytest.fixture
def metrics_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings,
        "metrics_token": TOKEN,
        "metrics_allow": "10.0.0.0/8",
        "scheduler_lock_key": random.randint(1, 2**62),
    }


@pytest.fixture
def app(
    metrics_settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> Flask:
    return create_app(metrics_settings, session_factory=session_factory, clock=clock)
