"""Links to set a password (core.auth.resets): stored hashed, e-mailed through the outbox in the
user's language, single use, expiring, replaced by a newer one, refused alike when unknown,
expired, used, malformed or for a deactivated account; using one ends every session — on both
DBs."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AccountAction, AuditEntry
from core.auth import resets, sessions, throttle
from core.auth import services as accounts
from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.identity.authz import Actor
from core.identity.models import PasswordReset, Role, User
from core.outbox import OutboxMessage
from tests.kit.factories import PASSWORD, SYSTEM, make_user
from tests.kit.leaks import places_holding
from tests.kit.outbox import SECRET_KEY, opened_context

SETTINGS = resets.LinkSettings(
    "https://vigie.example", 24, "Africa/Casablanca", "vigie.example", SECRET_KEY
)
NEW_PASSWORD = "Seven quiet harbours at dusk"
POLICY = sessions.SessionPolicy.of(idle_minutes=30, max_hours=12)


def _send(db: Session, clock: FrozenClock, user: User) -> str:
    """Send a link as an administrator; the token, read from the queued e-mail."""
    resets.send_link(db, SYSTEM, user, settings=SETTINGS, clock=clock)
    return _token_mailed(db, user)


def _token_mailed(db: Session, user: User) -> str:
    query = select(OutboxMessage).where(OutboxMessage.to_addr == user.email)
    message = db.scalars(query.order_by(OutboxMessage.id.desc())).first()
    assert message is not None
    link = str(opened_context(message)["link"])
    assert link.startswith("https://vigie.example/password/reset/")
    return link.rsplit("/", 1)[1]


def _actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize(("password", "purpose"), [(PASSWORD, "reset"), (None, "invite")])
def test_a_link_is_stored_hashed_and_mailed_in_the_users_language(
    db_session: Session, clock: FrozenClock, password: str | None, purpose: str
) -> None:
    user = make_user(db_session, clock, locale="ar", name="Youssef", password=password)
    token = _send(db_session, clock, user)
    row = db_session.scalars(select(PasswordReset)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.purpose == purpose and row.expires_at == clock.now().replace(day=16)
    message = db_session.scalars(select(OutboxMessage)).one()
    assert (message.language, message.template, message.related_id) == (
        "ar", resets.TEMPLATE, str(user.id),
    )  # fmt: skip
    context = opened_context(message)
    assert context["invite"] is (purpose == "invite")
    assert context["city"] == "الدار البيضاء"
    assert token not in str(db_session.scalars(select(AuditEntry.after)).all())
    assert _actions(db_session)[-1] == AccountAction.USER_RESET_LINK


def test_using_a_link_sets_the_password_once_and_ends_every_session(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    for _ in range(2):
        sessions.start_session(db_session, user, ip=None, user_agent=None, clock=clock)
    throttle.record_failure(db_session, user.email, now=clock.now())
    token = _send(db_session, clock, user)
    clock.advance(hours=23)
    assert resets.use_link(db_session, token, NEW_PASSWORD, ip="192.0.2.9", clock=clock) is user
    assert accounts.authenticate(db_session, user.email, NEW_PASSWORD, ip=None, clock=clock)
    assert sessions.open_sessions(db_session, user, policy=POLICY, clock=clock) == []
    assert throttle.failures(db_session, user.email) == 0
    assert db_session.scalars(select(PasswordReset)).all() == []
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == AccountAction.USER_PASSWORD_RESET.value)
    ).one()
    assert (entry.actor_id, entry.ip) == (user.id, "192.0.2.9")
    with pytest.raises(resets.InvalidLink):  # single use
        resets.use_link(db_session, token, "Another fine long passphrase", ip=None, clock=clock)


def test_a_refused_password_leaves_the_link_working(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, name="Amina Tazi")
    token = _send(db_session, clock, user)
    with pytest.raises(ValidationFailed) as err:
        resets.use_link(db_session, token, "amina tazi 2026", ip=None, clock=clock)
    assert set(err.value.fields) == {"new_password"}
    assert resets.find_link(db_session, token, clock=clock) is not None
    assert accounts.authenticate(db_session, user.email, PASSWORD, ip=None, clock=clock)


def test_unknown_expired_replaced_malformed_and_deactivated_links_are_alike(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    old = _send(db_session, clock, user)
    new = _send(db_session, clock, user)  # a newer link replaces the older one
    other = make_user(db_session, clock)
    gone = _send(db_session, clock, other)
    accounts.set_active(db_session, SYSTEM, other, False, clock=clock)
    for token in (old, gone, "x" * 43, new[:-1], new + "=", "../../etc/passwd", "", "é" * 43):
        assert resets.find_link(db_session, token, clock=clock) is None, token
        with pytest.raises(resets.InvalidLink):
            resets.use_link(db_session, token, NEW_PASSWORD, ip=None, clock=clock)
    assert resets.find_link(db_session, new, clock=clock) is not None
    clock.advance(hours=24)
    assert resets.find_link(db_session, new, clock=clock) is None
    with pytest.raises(ValidationFailed) as err:  # no link for a deactivated account
        resets.send_link(db_session, SYSTEM, other, settings=SETTINGS, clock=clock)
    assert err.value.fields == {"user": resets.INACTIVE}


def test_forgot_my_password_answers_alike_and_sends_at_most_one_link_per_interval(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, email="rssi@sante.gov.ma")
    inactive = make_user(db_session, clock, email="former@sante.gov.ma")
    accounts.set_active(db_session, SYSTEM, inactive, False, clock=clock)

    def ask(address: str) -> bool:
        return resets.request_link(
            db_session, address, ip="203.0.113.5", settings=SETTINGS, clock=clock
        )

    assert ask("nobody@sante.gov.ma") is False
    assert ask("not an address") is False
    assert ask("former@sante.gov.ma") is False
    assert ask(" RSSI@Sante.gov.ma ") is True
    assert ask("rssi@sante.gov.ma") is False  # a second request within five minutes
    clock.advance(minutes=6)
    assert ask("rssi@sante.gov.ma") is True
    assert db_session.scalars(select(PasswordReset)).one().user_id == user.id
    requests = db_session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == AccountAction.USER_RESET_REQUEST.value)
        .order_by(AuditEntry.id)  # rows of a reused schema come back in no particular order
    ).all()
    assert [(e.actor_label, e.object_id, e.after) for e in requests] == [
        ("nobody@sante.gov.ma", "-", {"sent": False}),
        ("not an address", "-", {"sent": False}),
        ("former@sante.gov.ma", str(inactive.id), {"sent": False}),
        ("rssi@sante.gov.ma", str(user.id), {"sent": True}),
        ("rssi@sante.gov.ma", str(user.id), {"sent": False}),
        ("rssi@sante.gov.ma", str(user.id), {"sent": True}),
    ]
    assert all(e.actor_id is None and e.ip == "203.0.113.5" for e in requests)


def test_an_admin_link_does_not_touch_the_current_password_or_sessions(
    db_session: Session, clock: FrozenClock
) -> None:
    admin = make_user(db_session, clock, role=Role.ADMIN)
    user = make_user(db_session, clock)
    sessions.start_session(db_session, user, ip=None, user_agent=None, clock=clock)
    resets.send_link(db_session, Actor.for_user(admin), user, settings=SETTINGS, clock=clock)
    assert accounts.authenticate(db_session, user.email, PASSWORD, ip=None, clock=clock)
    assert len(sessions.open_sessions(db_session, user, policy=POLICY, clock=clock)) == 1


def test_expired_links_are_purged(db_session: Session, clock: FrozenClock) -> None:
    first, second = make_user(db_session, clock), make_user(db_session, clock)
    _send(db_session, clock, first)
    clock.advance(hours=12)
    _send(db_session, clock, second)
    clock.advance(hours=13)
    assert resets.purge(db_session, now=clock.now()) == 1
    assert [r.user_id for r in db_session.scalars(select(PasswordReset))] == [second.id]


@pytest.mark.parametrize("flow", ["admin", "forgot"])
def test_no_table_holds_the_link_in_clear(
    db_session: Session, clock: FrozenClock, flow: str
) -> None:
    user = make_user(db_session, clock)
    if flow == "admin":
        resets.send_link(db_session, SYSTEM, user, settings=SETTINGS, clock=clock)
    else:
        assert resets.request_link(db_session, user.email, ip=None, settings=SETTINGS, clock=clock)
    db_session.flush()
    token = _token_mailed(db_session, user)  # opened with the key, as the sender does
    link = f"https://vigie.example/password/reset/{token}"
    assert places_holding(db_session, token, link) == []
    assert resets.find_link(db_session, token, clock=clock) is not None
