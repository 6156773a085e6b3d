"""Server-side web sessions: logout ends the session, idle and absolute expiry, the account page
lists the open sessions and ends them, a password change keeps only the current one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import encode_cookie  # type: ignore[import-untyped]
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session, sessionmaker

from cert import scheduler
from cert.app import create_app
from core.audit import AuditEntry
from core.auth import services as accounts
from core.auth import sessions as web_sessions
from core.auth import throttle
from core.clock import FrozenClock
from core.config import ConfigError, load_config
from core.db import make_session_factory
from core.identity.models import LoginThrottle, User, UserSession
from core.uow import transaction
from tests.dbs import TestDatabase
from tests.kit.factories import PASSWORD, SYSTEM, make_user
from tests.kit.web import csrf_token, login, logout, text

COOKIE = "vigie_session"


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def _replay(app: Flask, cookie: str, **environ: Any) -> FlaskClient:
    """A new client (a copy of the browser) that only has the copied session cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    if environ:
        thief.environ_base.update(environ)
    return thief


def _actions(db_session: Session) -> list[str]:
    return list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_cookie_copied_before_logout_no_longer_works(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    copied = _cookie(client)
    assert _replay(app, copied).get("/account").status_code == 200  # the copy works, for now
    logout(client)
    assert client.get("/account").status_code == 302
    replayed = _replay(app, copied).get("/account")
    assert replayed.status_code == 302
    assert replayed.headers["Location"] == "/login?next=/account"
    assert _replay(app, copied).get("/api/v1/incidents").status_code == 401
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.ended_reason == "logout" and row.ended_at == clock.now()
    assert "auth.logout" in _actions(db_session)


def test_only_a_hash_of_the_session_id_is_stored(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD, next_url="/account")
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert len(row.token_hash) == 64
    assert row.token_hash not in _cookie(client)
    assert row.created_at == row.last_seen_at == clock.now()
    assert row.client_address == "127.0.0.1"


def test_sessions_end_after_the_idle_timeout(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    for _ in range(3):  # activity keeps the session alive past the idle timeout
        clock.advance(minutes=25)
        assert client.get("/account").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/account").status_code == 302
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.ended_reason == "idle"


def test_sessions_end_after_their_absolute_lifetime_whatever_the_activity(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    for _ in range(35):  # 11 h 40 of activity, a request every 20 minutes
        clock.advance(minutes=20)
        assert client.get("/account").status_code == 200
    clock.advance(minutes=19)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=2)  # 12 hours and a minute after sign-in
    assert client.get("/account").status_code == 302
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.ended_reason == "expired"


def test_last_seen_is_written_at_most_once_a_minute(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    start = clock.now()
    clock.advance(seconds=30)
    client.get("/account")
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    db_session.refresh(row)
    assert row.last_seen_at == start
    clock.advance(seconds=31)
    client.get("/account")
    db_session.refresh(row)
    assert row.last_seen_at == clock.now()


def test_session_lifetimes_are_configurable(
    settings: dict[str, Any],
    session_factory: sessionmaker[Session],
    db_session: Session,
    clock: FrozenClock,
) -> None:
    app = create_app(
        {**settings, "session_idle_minutes": 5, "session_max_hours": 1},
        session_factory=session_factory,
        clock=clock,
    )
    client = app.test_client()
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    clock.advance(minutes=4)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=6)
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CERT_SESSION_IDLE_MINUTES", "0", "CERT_SESSION_IDLE_MINUTES: must be greater than zero"),
        ("CERT_SESSION_IDLE_MINUTES", "1441", "CERT_SESSION_IDLE_MINUTES: must be from 1 to 1440"),
        ("CERT_SESSION_MAX_HOURS", "745", "CERT_SESSION_MAX_HOURS: must be from 1 to 744"),
        ("CERT_SESSION_MAX_HOURS", "soon", "CERT_SESSION_MAX_HOURS: expected a whole number"),
    ],
)
def test_session_settings_are_bounded(
    settings: dict[str, Any], variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ={"CERT_INSTANCE_DIR": str(settings["instance_dir"]), variable: value})


def _open_two_sessions(
    app: Flask, db_session: Session, clock: FrozenClock
) -> tuple[FlaskClient, FlaskClient, Any]:
    user = make_user(db_session, clock)
    laptop = app.test_client()
    laptop.environ_base.update(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="Firefox/128.0 laptop")
    phone = app.test_client()
    phone.environ_base.update(REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT="Mobile Safari phone")
    login(laptop, user.email, PASSWORD)
    clock.advance(minutes=2)
    login(phone, user.email, PASSWORD)
    return laptop, phone, user


def test_the_account_page_lists_open_sessions(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    laptop, phone, user = _open_two_sessions(app, db_session, clock)
    page = text(laptop.get("/account"))
    assert "Sessions ouvertes" in page
    assert "192.0.2.10" in page and "198.51.100.20" in page
    assert "Firefox/128.0 laptop" in page and "Mobile Safari phone" in page
    assert page.count("Cette session") == 1
    logout(phone)
    after = text(laptop.get("/account"))
    listed = after.split('aria-labelledby="sessions-title"', 1)[1].split("</section>", 1)[0]
    assert "192.0.2.10" in listed and "198.51.100.20" not in listed  # ended ones are not listed


def _end_button(page: str, address: str) -> str:
    """The action of the "end" form on the row that shows ``address``."""
    row = next(r for r in page.split("<tr") if address in r)
    match = re.search(r'action="(/account/sessions/\d+/end)"', row)
    assert match, f"no end button on the row of {address}"
    return match.group(1)


def test_ending_another_session_from_the_account_page_kills_it(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    laptop, phone, user = _open_two_sessions(app, db_session, clock)
    page = text(laptop.get("/account"))
    response = laptop.post(
        _end_button(page, "198.51.100.20"), data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    assert "La session a été fermée." in text(laptop.get(response.headers["Location"]))
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    assert "auth.session_end" in _actions(db_session)


def test_a_user_cannot_end_someone_elses_session(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    laptop, phone, user = _open_two_sessions(app, db_session, clock)
    other = make_user(db_session, clock)
    intruder = app.test_client()
    login(intruder, other.email, PASSWORD)
    row = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).first()
    assert row is not None
    page = text(intruder.get("/account"))
    response = intruder.post(
        f"/account/sessions/{row.id}/end", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert phone.get("/account").status_code == 200 and laptop.get("/account").status_code == 200


def test_end_all_other_sessions_keeps_this_one(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    laptop, phone, user = _open_two_sessions(app, db_session, clock)
    tablet = app.test_client()
    login(tablet, user.email, PASSWORD)
    page = text(laptop.get("/account"))
    response = laptop.post("/account/sessions/end-others", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "Vos autres sessions ont été fermées." in text(laptop.get("/account"))
    assert phone.get("/account").status_code == 302 and tablet.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    assert "auth.sessions_end" in _actions(db_session)


def test_admin_password_reset_and_deactivation_end_every_session(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    laptop, phone, user = _open_two_sessions(app, db_session, clock)
    accounts.set_password(db_session, SYSTEM, user, "an entirely new passphrase", clock=clock)
    db_session.flush()
    rows = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert {row.ended_reason for row in rows} == {"password"}
    assert laptop.get("/account").status_code == 302 and phone.get("/account").status_code == 302
    login(laptop, user.email, "an entirely new passphrase")
    accounts.set_active(db_session, SYSTEM, user, False, clock=clock)
    db_session.flush()
    assert laptop.get("/account").status_code == 302


def test_login_sets_no_remember_me_cookie(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    response = login(client, user.email, PASSWORD)
    assert not [c for c in response.headers.getlist("Set-Cookie") if "remember" in c.lower()]


def test_purge_forgets_ended_and_expired_sessions(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    laptop, phone, user = _open_two_sessions(app, db_session, clock)
    assert laptop.get("/account").status_code == 200  # seen 2 minutes after sign-in
    logout(phone)
    tablet = app.test_client()
    login(tablet, user.email, PASSWORD)
    clock.advance(minutes=29)
    assert laptop.get("/account").status_code == 200
    clock.advance(minutes=2)  # the tablet is now idle past the timeout, the laptop is not
    policy = web_sessions.SessionPolicy.of(idle_minutes=30, max_hours=12)
    assert web_sessions.purge_sessions(db_session, policy=policy, now=clock.now()) == 2
    left = db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(left) == 1 and left[0].client_address == "192.0.2.10"
    assert laptop.get("/account").status_code == 200


def test_the_scheduler_job_purges_sessions_and_spent_throttles(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    factory = make_session_factory(fresh_database.engine)
    clock = FrozenClock()
    with transaction(factory) as db:
        user = make_user(db, clock)
        web_sessions.start_session(db, user, ip="192.0.2.1", user_agent="old", clock=clock)
        throttle.record_failure(db, "someone@example.gov.ma", now=clock.now())
    clock.advance(hours=2)
    with transaction(factory) as db:
        user = db.get(User, user.id)
        assert user is not None
        web_sessions.start_session(db, user, ip="192.0.2.2", user_agent="new", clock=clock)
    config = load_config(
        {"database_url": fresh_database.url, "instance_dir": tmp_path, "secret_key": "s" * 40},
        environ={},
    )
    context = scheduler.JobContext(config, fresh_database.engine, factory, clock, "test:1")
    spec = scheduler.JOBS["auth.purge_sessions"]
    assert spec.interval == 3600
    assert spec.resolve()(context) == {"sessions": 1, "throttles": 1, "reset_links": 0}
    with factory() as db:
        assert db.scalars(select(UserSession.user_agent)).all() == ["new"]
        assert db.scalars(select(LoginThrottle)).all() == []


def test_an_admin_ends_every_session_of_a_user(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    laptop, phone, user = _open_two_sessions(app, db_session, clock)
    admin_user = make_user(db_session, clock, role="admin")
    admin = app.test_client()
    login(admin, admin_user.email, PASSWORD)
    page = text(admin.get(f"/admin/users/{user.id}"))
    response = admin.post(
        f"/admin/users/{user.id}/end-sessions", data={"csrf_token": csrf_token(page)}
    )
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert f"Sessions de {user.email} fermées : 2." in text(admin.get(f"/admin/users/{user.id}"))
    assert laptop.get("/account").status_code == 302 and phone.get("/account").status_code == 302
    assert admin.get("/account").status_code == 200
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "auth.sessions_end")
    ).one()
    assert entry.actor_id == admin_user.id and entry.after is not None
    assert entry.after["reason"] == "ended_by_admin" and entry.after["sessions"] == 2
    reporter = app.test_client()
    login(reporter, make_user(db_session, clock).email, PASSWORD)
    page = text(reporter.get("/account"))
    forbidden = reporter.post(
        f"/admin/users/{admin_user.id}/end-sessions", data={"csrf_token": csrf_token(page)}
    )
    assert forbidden.status_code == 403
    assert admin.get("/account").status_code == 200


def test_a_remember_me_cookie_goes_through_the_same_check(
    app: Flask, client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    """None is ever set; a forged or stolen one names a session, which logout ends as well."""
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    with client.session_transaction() as cookie_session:
        key = cookie_session["_user_id"]
    with app.test_request_context():
        remember = encode_cookie(key)
    assert _remembered(app, remember).get("/account").status_code == 200  # a live session
    logout(client)
    assert _remembered(app, remember).get("/account").status_code == 302


def _remembered(app: Flask, remember: str) -> FlaskClient:
    holder = app.test_client()
    holder.set_cookie("remember_token", remember)
    return holder


def test_reading_pages_writes_nothing_but_the_stamp_once_a_minute(
    client: FlaskClient, db_session: Session, clock: FrozenClock, connection: Connection
) -> None:
    user = make_user(db_session, clock)
    login(client, user.email, PASSWORD)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        clock.advance(seconds=59)
        assert client.get("/account").status_code == 200
        assert [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))] == []
        reads = [s for s in statements if "FROM user_sessions" in s]
        assert len(reads) == 2  # the loader, and the page's list of open sessions
        statements.clear()
        clock.advance(seconds=2)
        assert client.get("/").status_code == 200
        writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
        assert len(writes) == 1 and writes[0].startswith("UPDATE user_sessions SET last_seen_at")
    finally:
        event.remove(connection, "before_cursor_execute", record)
