"""A "forgotten password" link of an account with two-factor sign-in asks for a code too (the
application's or a recovery code): whoever reads the mailbox also needs the phone. A missing or
wrong code is refused naming the field and leaves the password as it was (the failure counted
and audited); an account without a second factor is not asked — on both DBs."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AccountAction, AuditEntry
from core.auth import mfa
from core.clock import FrozenClock
from core.identity.models import User
from tests.cert.test_password_pages import NEW_PASSWORD, _forgot, _mailed_path
from tests.kit.factories import SYSTEM, make_user
from tests.kit.web import csrf_token, text


def _enrolled(
    db: Session, clock: FrozenClock, user: User, secret_key: str
) -> tuple[str, list[str]]:
    seal = mfa.sealer(secret_key)
    secret = mfa.start_enrolment(db, user, seal=seal)
    codes = mfa.confirm_enrolment(
        db, SYSTEM, user, mfa.current_code(secret, clock.now()), seal=seal, clock=clock
    )
    clock.advance(seconds=30)
    return secret, codes


def _set(client: FlaskClient, path: str, code: str | None) -> Any:
    token = csrf_token(text(client.get(path)))
    data = {"csrf_token": token, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    if code is not None:
        data["code"] = code
    return client.post(path, data=data)


def test_the_reset_of_an_enrolled_account_asks_for_a_code(
    client: FlaskClient, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> None:
    user = make_user(db_session, clock)
    secret, _ = _enrolled(db_session, clock, user, settings["secret_key"])
    before = user.password_hash
    _forgot(client, user.email)
    path = _mailed_path(db_session, user.email)
    page = text(client.get(path))
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    for code in (None, "", "000000", "abcd-efgh-jkmn"):
        refused = _set(client, path, code)
        assert refused.status_code == 422, code
        assert 'id="code"' in text(refused) and "is-invalid" in text(refused)
        db_session.refresh(user)
        assert user.password_hash == before
    assert client.get(path).status_code == 200  # the link still works
    done = _set(client, path, mfa.current_code(secret, clock.now()))
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    db_session.refresh(user)
    assert user.password_hash != before
    failed = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == AccountAction.MFA_FAILED.value)
    ).all()
    assert len(failed) == 2  # the two wrong codes (a missing one is not a try)


def test_a_recovery_code_sets_the_password_once(
    client: FlaskClient, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> None:
    user = make_user(db_session, clock)
    _, codes = _enrolled(db_session, clock, user, settings["secret_key"])
    _forgot(client, user.email)
    assert _set(client, _mailed_path(db_session, user.email), codes[0]).status_code == 302
    assert mfa.remaining_recovery_codes(db_session, user) == 9
    clock.advance(minutes=10)  # another link may be asked for
    _forgot(client, user.email)
    assert _set(client, _mailed_path(db_session, user.email), codes[0]).status_code == 422


def test_wrong_codes_on_reset_links_throttle_the_second_factor(
    client: FlaskClient, db_session: Session, clock: FrozenClock, settings: dict[str, Any]
) -> None:
    user = make_user(db_session, clock)
    secret, _ = _enrolled(db_session, clock, user, settings["secret_key"])
    _forgot(client, user.email)
    path = _mailed_path(db_session, user.email)
    for _ in range(5):
        assert _set(client, path, "111111").status_code == 422
    client.get("/login?lang=en")
    waiting = _set(client, path, mfa.current_code(secret, clock.now()))
    assert waiting.status_code == 422 and "too many wrong codes" in text(waiting)
    assert mfa.blocked_until(db_session, user, clock=clock) is not None


def test_an_account_without_a_second_factor_is_not_asked(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock)
    _forgot(client, user.email)
    path = _mailed_path(db_session, user.email)
    assert 'name="code"' not in text(client.get(path))
    assert _set(client, path, None).status_code == 302
