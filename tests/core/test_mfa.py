"""Two-factor sign-in in the kernel (core.auth.mfa), on both DBs: enrolment (a wrong code refused
naming ``code``, the pending secret shown again on reload, the secret sealed, ten distinct
recovery codes stored as digests), codes (the current one, one step of drift either way and no
more, never the same step twice nor an older one, a racing second use refused), recovery codes
(once, whatever the case, dashes and spaces), the throttle after five wrong codes, the audit,
removal."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AccountAction, AuditEntry
from core.auth import mfa
from core.clock import FrozenClock
from core.errors import AuthenticationFailed, ValidationFailed
from core.identity.models import MfaRecoveryCode, Role, User
from tests.kit.factories import SYSTEM, make_user
from tests.kit.leaks import places_holding

SEAL = mfa.sealer("kernel-test-secret-key-" + "k" * 32)
STEP = dt.timedelta(seconds=mfa.STEP_SECONDS)


def _enrol(db: Session, clock: FrozenClock, user: User) -> tuple[str, list[str]]:
    secret = mfa.start_enrolment(db, user, seal=SEAL)
    codes = mfa.confirm_enrolment(
        db, SYSTEM, user, mfa.current_code(secret, clock.now()), seal=SEAL, clock=clock
    )
    clock.advance(seconds=mfa.STEP_SECONDS)  # the enrolling code's step is used
    return secret, codes


def _check(db: Session, clock: FrozenClock, user: User, code: str) -> str:
    return mfa.check_code(db, user, code, seal=SEAL, ip="192.0.2.7", clock=clock)


def _actions(db: Session, *actions: AccountAction) -> list[str]:
    names = [action.value for action in actions]
    query = select(AuditEntry.action).where(AuditEntry.action.in_(names))
    return list(db.scalars(query.order_by(AuditEntry.id)))


def test_which_roles_must_enrol(db_session: Session, clock: FrozenClock) -> None:
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    reporter = make_user(db_session, clock, role=Role.REPORTER)
    roles = frozenset({"analyst", "lead", "admin"})
    assert mfa.must_enrol(analyst, roles) and not mfa.must_enrol(reporter, roles)
    assert not mfa.must_enrol(analyst, frozenset())
    assert mfa.pending_step(analyst, roles) == {"second_factor": "enrol"}
    assert mfa.pending_step(reporter, roles) == {}
    _enrol(db_session, clock, reporter)
    assert mfa.pending_step(reporter, roles) == {"second_factor": "code"}


def test_enrolment_keeps_the_secret_sealed_and_the_recovery_codes_hashed(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, role=Role.ANALYST)
    secret = mfa.start_enrolment(db_session, user, seal=SEAL)
    assert mfa.start_enrolment(db_session, user, seal=SEAL) == secret  # the page reloaded
    with pytest.raises(ValidationFailed) as wrong:
        mfa.confirm_enrolment(db_session, SYSTEM, user, "000000", seal=SEAL, clock=clock)
    assert set(wrong.value.fields) == {"code"} and not user.mfa_enrolled
    code = mfa.current_code(secret, clock.now())
    codes = mfa.confirm_enrolment(db_session, SYSTEM, user, code, seal=SEAL, clock=clock)
    db_session.flush()
    assert user.mfa_enrolled and user.totp_pending_secret is None
    assert user.totp_secret != secret and SEAL.open(user.totp_secret or "") == secret
    assert len(codes) == mfa.RECOVERY_CODES == len(set(codes))
    rows = db_session.scalars(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    digests = {row.code_hash for row in rows}
    assert digests == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert places_holding(db_session, secret, *codes, *(c.replace("-", "") for c in codes)) == []
    assert _actions(db_session, AccountAction.MFA_ENROL) == ["mfa.enrol"]
    with pytest.raises(ValidationFailed) as again:  # no enrolment in progress any more
        mfa.confirm_enrolment(db_session, SYSTEM, user, code, seal=SEAL, clock=clock)
    assert set(again.value.fields) == {"code"}


def test_a_pending_secret_sealed_with_a_former_key_starts_again(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, role=Role.ANALYST)
    old = mfa.start_enrolment(db_session, user, seal=mfa.sealer("a former key " + "x" * 32))
    assert mfa.start_enrolment(db_session, user, seal=SEAL) != old


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_one_step_of_drift_either_way_and_no_more(
    db_session: Session, clock: FrozenClock, offset: int, accepted: bool
) -> None:
    user = make_user(db_session, clock, role=Role.ANALYST)
    secret, _ = _enrol(db_session, clock, user)
    clock.advance(minutes=5)
    code = mfa.current_code(secret, clock.now() + offset * STEP)
    if accepted:
        assert _check(db_session, clock, user, code) == mfa.Method.TOTP
    else:
        with pytest.raises(AuthenticationFailed):
            _check(db_session, clock, user, code)


def test_a_code_works_once_and_never_an_older_step(db_session: Session, clock: FrozenClock) -> None:
    user = make_user(db_session, clock, role=Role.ANALYST)
    secret, _ = _enrol(db_session, clock, user)
    now = mfa.current_code(secret, clock.now())
    assert _check(db_session, clock, user, now) == mfa.Method.TOTP
    with pytest.raises(AuthenticationFailed):
        _check(db_session, clock, user, now)  # the same code again
    ahead = mfa.current_code(secret, clock.now() + STEP)
    assert _check(db_session, clock, user, ahead) == mfa.Method.TOTP  # the next step (drift)
    clock.advance(seconds=mfa.STEP_SECONDS)
    with pytest.raises(AuthenticationFailed):  # the step is used: its code, or an older one
        _check(db_session, clock, user, mfa.current_code(secret, clock.now()))
    with pytest.raises(AuthenticationFailed):
        _check(db_session, clock, user, mfa.current_code(secret, clock.now() - STEP))
    failed = db_session.scalars(
        select(AuditEntry.after).where(AuditEntry.action == AccountAction.MFA_FAILED.value)
    ).all()
    assert [row["reason"] for row in failed] == ["replayed", "replayed", "replayed"]


def test_two_requests_racing_with_one_code_cannot_both_succeed(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with factory() as db:
        user = make_user(db, clock, role=Role.ANALYST)
        secret, _ = _enrol(db, clock, user)
        db.commit()
        user_id = user.id
    code = mfa.current_code(secret, clock.now())
    first, second = factory(), factory()
    try:
        mine, theirs = first.get(User, user_id), second.get(User, user_id)
        assert mine is not None and theirs is not None
        assert theirs.totp_last_step == mine.totp_last_step  # both read before either wrote
        second.commit()  # (its read ends: SQLite lets one writer in; the object stays as read)
        assert _check(first, clock, mine, code) == mfa.Method.TOTP
        first.commit()
        with pytest.raises(AuthenticationFailed):
            _check(second, clock, theirs, code)
        second.commit()
    finally:
        first.close()
        second.close()


def test_a_recovery_code_works_once_whatever_its_case_and_spacing(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, role=Role.ANALYST)
    _, codes = _enrol(db_session, clock, user)
    typed = " " + codes[0].upper().replace("-", " ") + " "
    assert _check(db_session, clock, user, typed) == mfa.Method.RECOVERY
    assert mfa.remaining_recovery_codes(db_session, user) == 9
    for again in (codes[0], codes[0].replace("-", "")):
        with pytest.raises(AuthenticationFailed):
            _check(db_session, clock, user, again)
    assert _check(db_session, clock, user, codes[1].replace("-", "")) == mfa.Method.RECOVERY
    used = db_session.scalars(
        select(AuditEntry.after).where(AuditEntry.action == AccountAction.MFA_RECOVERY_USED.value)
    ).all()
    assert [row["remaining"] for row in used] == [9, 8]


def test_five_wrong_codes_make_the_account_wait(db_session: Session, clock: FrozenClock) -> None:
    user = make_user(db_session, clock, role=Role.ANALYST)
    secret, _ = _enrol(db_session, clock, user)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed) as wrong:
            _check(db_session, clock, user, "123456")
        assert not isinstance(wrong.value, mfa.MfaThrottled)
    with pytest.raises(mfa.MfaThrottled) as waiting:  # even the right code waits
        _check(db_session, clock, user, mfa.current_code(secret, clock.now()))
    assert waiting.value.until == clock.now() + dt.timedelta(minutes=1)
    assert mfa.blocked_until(db_session, user, clock=clock) == waiting.value.until
    clock.advance(minutes=1, seconds=1)
    assert _check(db_session, clock, user, mfa.current_code(secret, clock.now())) == "totp"
    failures = [AccountAction.MFA_FAILED.value] * 5
    throttle = [AccountAction.MFA_THROTTLE.value, AccountAction.MFA_FAILED.value]
    recorded = _actions(db_session, AccountAction.MFA_FAILED, AccountAction.MFA_THROTTLE)
    assert recorded == [*failures, *throttle]
    rows = db_session.scalars(select(AuditEntry).where(AuditEntry.action.like("mfa.%")))
    assert {(row.ip, row.object_id) for row in rows if row.action == "mfa.failed"} == {
        ("192.0.2.7", str(user.id))
    }


def test_remove_forgets_the_second_factor(db_session: Session, clock: FrozenClock) -> None:
    user = make_user(db_session, clock, role=Role.REPORTER)
    secret, codes = _enrol(db_session, clock, user)
    action = AccountAction.MFA_DISABLE
    assert mfa.remove(db_session, SYSTEM, user, action=action, clock=clock) is True
    assert not user.mfa_enrolled and user.totp_last_step is None
    assert mfa.remaining_recovery_codes(db_session, user) == 0
    with pytest.raises(AuthenticationFailed):
        _check(db_session, clock, user, codes[0])
    assert mfa.remove(db_session, SYSTEM, user, action=action, clock=clock) is False
    assert _actions(db_session, action) == ["mfa.disable", "mfa.disable"]
