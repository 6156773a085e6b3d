"""The per-account sign-in throttle: after 5 failures an account waits a growing delay (1, 2, 4, 8,
then at most 15 minutes) before it can try again from any address; success resets it, and an
unknown e-mail address is answered exactly like a known one. A browser that signed in before
(it holds a device cookie) is exempt from that wait, under its own failure count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import Cookie

from cert.app import create_app
from core.audit import AuditEntry
from core.auth import devices, throttle
from core.auth import services as accounts
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import User, UserSession
from tests.kit.factories import PASSWORD, SYSTEM, make_user
from tests.kit.web import csrf_token, login, logout, text

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


# ---------------------------------------------------------------- device cookies
# A browser that signed in before carries a signed device cookie; its attempts are not subject to
# the per-account wait (an attacker's failures never lock it out), only to its own failure count.
OWNER, ATTACKER, NEWCOMER = "192.0.2.5", "203.0.113.66", "198.51.100.7"


def _device_cookie(client: FlaskClient) -> Cookie | None:
    return client.get_cookie(devices.COOKIE_NAME, path="/login")


def _signed_in_before(app: Flask, user: User) -> FlaskClient:
    """The owner's browser: it signed in once (and out again), so it holds a device cookie."""
    owner = _client(app, OWNER)
    assert login(owner, user.email, PASSWORD).status_code == 302
    assert logout(owner).status_code == 302
    return owner


def _signs_in(client: FlaskClient, email: str) -> bool:
    response = login(client, email, PASSWORD)
    if response.status_code == 302:
        assert logout(client).status_code == 302
        return True
    assert BAD_CREDENTIALS in text(response)
    return False


def _audit(db: Session, action: str) -> list[AuditEntry]:
    return list(
        db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    )


def test_a_sign_in_gives_the_browser_a_device_cookie(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    client = _client(app, OWNER)
    failed = login(client, user.email, "not the right password")
    assert devices.COOKIE_NAME not in failed.headers.get("Set-Cookie", "")
    response = login(client, user.email, PASSWORD)
    header = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(devices.COOKIE_NAME)
    )
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "max-age", "path"} <= attributes
    assert "SameSite=Lax" in header and "Path=/login" in header
    assert f"Max-Age={180 * 24 * 3600}" in header
    assert "Secure" not in header  # CERT_BASE_URL is http in the tests
    cookie = _device_cookie(client)
    assert cookie is not None and user.email not in cookie.value  # signed, no readable address


def test_a_browser_that_signed_in_before_is_not_locked_out_by_an_attacker(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    owner = _signed_in_before(app, user)
    attacker, newcomer = _client(app, ATTACKER), _client(app, NEWCOMER)
    for _ in range(6):  # the attacker keeps the account waiting, once each wait is over
        _fail(attacker, user.email, 5)
        assert _signs_in(owner, user.email)  # at once, with the right password
        assert not _signs_in(newcomer, user.email)  # a client never seen before waits
        clock.advance(minutes=15)
    assert throttle.blocked_until(db_session, user.email, now=clock.now()) is None
    _fail(attacker, user.email, 1)
    assert not _signs_in(newcomer, user.email)  # the owner's sign-ins did not clear the count
    throttled = _audit(db_session, "auth.login_throttled")
    assert throttled and all(e.after and e.after["trusted_device"] is False for e in throttled)
    logins = _audit(db_session, "auth.login")
    assert [e.ip for e in logins] == [OWNER] * 7
    assert [e.after and e.after["trusted_device"] for e in logins] == [False] + [True] * 6


def _tamper(value: str) -> str:
    """Change the signature's first character: unlike the last one, which may carry only
    padding bits, it always changes the decoded signature."""
    head, _, signature = value.rpartition(".")
    return f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize(
    "how",
    [
        "wrong signature",
        "cookie of another account",
        "signed with another secret",
        "password reset by an administrator",
        "own password change",
        "all sessions ended by an administrator",
        "deactivated and reactivated",
        "expired",
    ],
)
def test_a_stolen_forged_or_outdated_device_cookie_gives_no_exemption(
    app: Flask,
    settings: dict[str, Any],
    db_session: Session,
    clock: FrozenClock,
    how: str,
) -> None:
    user = make_user(db_session, clock)
    other = make_user(db_session, clock)
    owner = _signed_in_before(app, user)
    cookie = _device_cookie(owner)
    assert cookie is not None
    value = cookie.value
    if how == "wrong signature":
        value = _tamper(value)
    elif how == "cookie of another account":
        value = _device_cookie(_signed_in_before(app, other)).value  # type: ignore[union-attr]
    elif how == "signed with another secret":
        value = devices.DeviceCookies("another secret key " + "y" * 32).issue(user, now=clock.now())
    elif how == "password reset by an administrator":
        accounts.set_password(db_session, SYSTEM, user, "an entirely new passphrase", clock=clock)
    elif how == "own password change":
        keep = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).first()
        accounts.change_own_password(
            db_session,
            Actor.for_user(user),
            user,
            current=PASSWORD,
            new="an entirely new passphrase",
            keep=keep,
            clock=clock,
        )
    elif how == "all sessions ended by an administrator":
        accounts.end_all_sessions(db_session, SYSTEM, user, clock=clock)
    elif how == "deactivated and reactivated":
        accounts.set_active(db_session, SYSTEM, user, False, clock=clock)
        accounts.set_active(db_session, SYSTEM, user, True, clock=clock)
    elif how == "expired":
        clock.advance(days=180, seconds=1)
    db_session.flush()
    password = PASSWORD if "password" not in how else "an entirely new passphrase"
    thief = _client(app, ATTACKER)
    thief.set_cookie(devices.COOKIE_NAME, value, path="/login")
    _fail(_client(app, NEWCOMER), user.email, 5)  # the account now waits
    refused = login(thief, user.email, password)  # the right password, yet no exemption
    assert refused.status_code == 200 and BAD_CREDENTIALS in text(refused)
    entry = _audit(db_session, "auth.login_throttled")[-1]
    assert entry.after is not None and entry.after["trusted_device"] is False
    assert entry.after["device_cookie"] == "invalid"


def test_the_device_counts_its_own_failures_and_loses_its_trust(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    owner = _signed_in_before(app, user)
    _fail(_client(app, ATTACKER), user.email, 5)  # the account waits a minute
    _fail(owner, user.email, 4)  # the owner's typos, from their browser: no wait for them
    assert _signs_in(owner, user.email)
    assert throttle.failures(db_session, user.email) == 5  # the device's failures are its own
    _fail(owner, user.email, devices.MAX_FAILURES)  # a thief with this browser's cookie
    assert not _signs_in(owner, user.email)  # no longer trusted: the account's wait applies
    revoked = _audit(db_session, "auth.device_revoked")
    assert len(revoked) == 1 and revoked[0].after == {"failures": devices.MAX_FAILURES}
    assert _audit(db_session, "auth.login_throttled")[-1].after == {
        "until": (clock.now() + dt.timedelta(minutes=1)).isoformat(),
        "trusted_device": False,
        "device_cookie": "revoked",
    }
    clock.advance(minutes=1)  # the wait is over: a sign-in with the password trusts it again
    assert _signs_in(owner, user.email)
    _fail(_client(app, ATTACKER), user.email, 5)
    assert _signs_in(owner, user.email)


def test_a_revoked_device_stays_revoked_until_its_cookie_expires(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    owner = _signed_in_before(app, user)
    _fail(owner, user.email, devices.MAX_FAILURES)
    clock.advance(days=30)
    throttle.purge(db_session, now=clock.now())  # the scheduler's purge keeps the revocation
    _fail(_client(app, ATTACKER), user.email, 5)
    assert not _signs_in(owner, user.email)


def test_failures_from_a_trusted_device_do_not_count_for_the_account(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    owner = _signed_in_before(app, user)
    _fail(owner, user.email, devices.MAX_FAILURES - 1)
    assert throttle.failures(db_session, user.email) == 0
    assert [e.after for e in _audit(db_session, "auth.login_failed")] == [
        {"trusted_device": True}
    ] * (devices.MAX_FAILURES - 1)


def test_the_device_cookie_is_secure_behind_https(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
) -> None:
    app = create_app(
        {**settings, "base_url": "https://cert.example.gov.ma"},
        session_factory=session_factory,
        clock=clock,
    )
    user = make_user(db_session, clock)
    client = app.test_client()
    token = csrf_token(text(client.get("/login", base_url="https://localhost")))
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},  # Flask-WTF's check over https
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    header = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(devices.COOKIE_NAME)
    )
    assert "; Secure" in header and "HttpOnly" in header


def test_malformed_device_cookies_are_untrusted(
    app: Flask, settings: dict[str, Any], db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    cookies = devices.DeviceCookies(settings["secret_key"])
    signer = URLSafeSerializer(settings["secret_key"], salt="vigie.device-cookie")
    valid = cookies.issue(user, now=clock.now())
    assert cookies.read(valid, user, now=clock.now()) is not None
    assert cookies.read(valid, None, now=clock.now()) is None  # an unknown address
    for payload in ({"n": "x"}, ["x", 1], ["x", "soon", "y"], ["x", 10**20, "y"], "x", None):
        assert cookies.read(signer.dumps(payload), user, now=clock.now()) is None, payload
    for value in ("", "x", "a.b", valid + "x" * 600, "\u00e9" * 100):
        assert cookies.read(value, user, now=clock.now()) is None, value
    _fail(_client(app, NEWCOMER), user.email, 5)
    for value in ("x" * 4000, signer.dumps(["x", 10**20, "y"])):  # answered, never a 500
        client = _client(app, ATTACKER)
        client.set_cookie(devices.COOKIE_NAME, value, path="/login")
        assert not _signs_in(client, user.email)
