"""The per-account sign-in throttle: after 5 failures an account waits a growing delay (1, 2, 4, 8,
then at most 15 minutes) before it can try again from any address; success resets it, and an
unknown e-mail address is answered exactly like a known one."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert.app import create_app
from cert.audit import AuditEntry
from cert.auth import throttle
from cert.clock import FrozenClock
from tests.factories import PASSWORD, make_user
from tests.webclient import login, text

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."


@pytest.fixture
def app(
    settings: dict[str, Any], session_factory: sessionmaker[Session], clock: FrozenClock
) -> Flask:
    """The per-address limit set high, so that only the per-account throttle is at work."""
    return create_app(
        {**settings, "login_rate_limit": "1000 per minute"},
        session_factory=session_factory,
        clock=clock,
    )


def _client(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address)
    return client


def _fail(client: FlaskClient, email: str, times: int) -> None:
    for _ in range(times):
        response = login(client, email, "not the right password")
        assert response.status_code == 200 and BAD_CREDENTIALS in text(response)


def _alert(response: Any) -> str:
    page = text(response)
    start = page.index('class="alert alert-danger"')
    return page[start : page.index("</div>", start)]


def test_failures_from_one_address_throttle_the_account_from_another(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    attacker, owner = _client(app, "203.0.113.66"), _client(app, "192.0.2.5")
    _fail(attacker, user.email, 5)
    refused = login(owner, user.email, PASSWORD)  # the right password, another address
    assert refused.status_code == 200 and BAD_CREDENTIALS in text(refused)
    assert owner.get("/account").status_code == 302
    clock.advance(seconds=59)
    assert login(owner, user.email, PASSWORD).status_code == 200
    clock.advance(seconds=2)  # the first delay is a minute
    assert login(owner, user.email, PASSWORD).status_code == 302
    assert owner.get("/account").status_code == 200
    actions = list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("auth.login_throttle") == 1
    assert actions.count("auth.login_throttled") == 2
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "auth.login_throttle")
    ).one()
    assert entry.ip == "203.0.113.66"
    assert entry.after == {"failures": 5, "delay_seconds": 60}


def test_a_successful_sign_in_resets_the_count(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    client = _client(app, "192.0.2.5")
    _fail(client, user.email, 4)
    assert login(client, user.email, PASSWORD).status_code == 302
    client = _client(app, "192.0.2.5")
    _fail(client, user.email, 4)
    assert login(client, user.email, PASSWORD).status_code == 302


def test_the_delay_grows_and_is_capped(db_session: Session, clock: FrozenClock) -> None:
    email = "someone@example.gov.ma"
    delays = []
    for _ in range(12):
        delay = throttle.record_failure(db_session, email, now=clock.now())
        if delay is not None:
            delays.append(int(delay.total_seconds()))
            assert throttle.blocked_until(db_session, email, now=clock.now()) == clock.now() + delay
            clock.advance(seconds=delay.total_seconds())
            assert throttle.blocked_until(db_session, email, now=clock.now()) is None
    assert delays == [60, 120, 240, 480, 900, 900, 900, 900]
    clock.advance(hours=1)  # an hour without failure: the count starts again
    assert [throttle.record_failure(db_session, email, now=clock.now()) for _ in range(4)] == [
        None
    ] * 4


def test_an_unknown_address_is_answered_like_a_known_one(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    known, unknown = _client(app, "192.0.2.5"), _client(app, "192.0.2.6")
    for attempt in range(7):
        a = login(known, user.email, "not the right password")
        b = login(unknown, "nobody@example.gov.ma", "not the right password")
        assert (a.status_code, _alert(a)) == (b.status_code, _alert(b)), attempt
    throttled = db_session.scalars(
        select(AuditEntry.actor_label).where(AuditEntry.action == "auth.login_throttled")
    ).all()
    assert sorted(throttled) == sorted([user.email, "nobody@example.gov.ma"] * 2)


def test_the_throttle_is_no_permanent_lock_out(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    attacker, owner = _client(app, "203.0.113.66"), _client(app, "192.0.2.5")
    for _ in range(10):  # an attacker who keeps trying, once the delay is over each time
        _fail(attacker, user.email, 5)
        clock.advance(minutes=15)
    assert login(owner, user.email, PASSWORD).status_code == 302
