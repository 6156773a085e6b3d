"""Racing failures from one device cookie (committed data, SQLite and PostgreSQL): each is
counted, so that parallel guesses with a stolen cookie cannot exceed the device's limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from core.audit import AuditEntry
from core.auth import devices
from core.clock import FrozenClock
from core.identity.models import LoginThrottle
from tests.dbs import TestDatabase
from tests.kit.config import SUITE_SETTINGS
from tests.kit.factories import PASSWORD, make_user
from tests.kit.threads import in_parallel
from tests.kit.web import login, text

THREADS = 8


@pytest.fixture
def live_app(
    fresh_database: TestDatabase, factory: sessionmaker[Session], clock: FrozenClock, tmp_path: Path
) -> Flask:
    config = {
        "testing": True,
        **SUITE_SETTINGS,
        "instance_dir": tmp_path / "instance",
        "upload_dir": tmp_path / "uploads",
        "database_url": fresh_database.url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "mail_from": "Vigie <cert@example.test>",
        "login_rate_limit": "1000 per minute",
    }
    return create_app(config, session_factory=factory, clock=clock)


def test_racing_failures_with_one_device_cookie_are_all_counted(
    live_app: Flask, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with factory() as session:
        email = make_user(session, clock).email
        session.commit()
    owner = live_app.test_client()
    assert login(owner, email, PASSWORD).status_code == 302
    cookie = owner.get_cookie(devices.COOKIE_NAME, path="/login")
    assert cookie is not None

    def work(_index: int) -> int:
        thief = live_app.test_client()
        thief.set_cookie(devices.COOKIE_NAME, cookie.value, path="/login")
        response = login(thief, email, "not the right password")
        assert "Adresse e-mail ou mot de passe incorrect." in text(response)
        return response.status_code

    assert in_parallel(THREADS, work) == [200] * THREADS
    with factory() as session:
        # every failure counted: on the device's row until it is revoked, then on the account's
        counts = sorted(session.scalars(select(LoginThrottle.failures)), reverse=True)
        assert counts[0] == devices.MAX_FAILURES and sum(counts) == THREADS
        revoked = select(func.count()).where(AuditEntry.action == "auth.device_revoked")
        assert session.scalar(revoked) == 1
