"""Managing a second factor (core.auth.mfa_admin): an administrator's reset (secret and codes
forgotten, every session ended, the nonce changed, the user e-mailed in their language,
audited), the user turning it off (only when the role allows, with a current code) and new
recovery codes; the account's security events — on both DBs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.auth import mfa, mfa_admin, sessions
from core.clock import FrozenClock
from core.errors import PermissionDenied, ValidationFailed
from core.i18n import render_mail
from core.identity.authz import Actor
from core.identity.models import MfaRecoveryCode, Role, User, UserSession
from core.outbox import OutboxMessage
from tests.kit.factories import SYSTEM, actor_of, make_user
from tests.kit.outbox import SECRET_KEY

SEAL = mfa.sealer(SECRET_KEY)
NOTICE = mfa_admin.NoticeSettings(
    "https://vigie.example", "Africa/Casablanca", "vigie.example", frozenset({"analyst"})
)
ALL_ROLES = frozenset({"reporter", "analyst", "lead", "admin"})


def enrol(db: Session, clock: FrozenClock, user: User) -> tuple[str, list[str]]:
    """Enrol ``user`` through the kernel; the secret and the recovery codes."""
    secret = mfa.start_enrolment(db, user, seal=SEAL)
    codes = mfa.confirm_enrolment(
        db, actor_of(user), user, mfa.current_code(secret, clock.now()), seal=SEAL, clock=clock
    )
    clock.advance(seconds=mfa.STEP_SECONDS * 3)  # the next code is a new one
    return secret, codes


def _open(db: Session, clock: FrozenClock, user: User, count: int) -> None:
    for _ in range(count):
        sessions.start_session(db, user, ip="192.0.2.1", user_agent="test", clock=clock)


def _actions(db: Session, user: User) -> list[str]:
    query = select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))
    return list(db.scalars(query.order_by(AuditEntry.id)))


def test_an_admin_reset_forgets_the_factor_ends_sessions_and_mails_the_user(
    db_session: Session, clock: FrozenClock
) -> None:
    admin = make_user(db_session, clock, role=Role.ADMIN)
    analyst = make_user(db_session, clock, role=Role.ANALYST, locale="ar", name="Youssef")
    enrol(db_session, clock, analyst)
    _open(db_session, clock, analyst, 2)
    nonce = analyst.session_nonce
    outcome = mfa_admin.reset_second_factor(
        db_session, actor_of(admin), analyst, settings=NOTICE, clock=clock
    )
    db_session.commit()
    assert (outcome.had, outcome.sessions_ended) == (True, 2)
    db_session.expire_all()
    assert analyst.totp_secret is None and analyst.mfa_enrolled_at is None
    assert analyst.totp_last_step is None and not analyst.mfa_enrolled
    assert analyst.session_nonce != nonce
    count = select(func.count()).select_from(MfaRecoveryCode)
    assert db_session.scalar(count.where(MfaRecoveryCode.user_id == analyst.id)) == 0
    reasons = db_session.scalars(select(UserSession.ended_reason)).all()
    assert reasons == ["mfa_reset", "mfa_reset"]
    assert _actions(db_session, analyst)[-2:] == ["mfa.reset", "auth.sessions_end"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "mfa.reset")).one()
    assert entry.actor_id == admin.id and entry.after == {"user": analyst.email, "had": True}
    message = db_session.scalars(select(OutboxMessage)).one()
    assert message.id == outcome.mail_id
    assert (message.to_addr, message.language, message.template) == (
        analyst.email, "ar", mfa_admin.TEMPLATE,
    )  # fmt: skip
    context = dict(message.template_context or {})
    assert context["city"] == "الدار البيضاء" and context["must_enrol"] is True
    subject, text, html = render_mail("core", "auth/email/mfa_reset", "en", **context)
    assert subject == "Vigie: your two-factor sign-in has been reset"
    assert "A CERT administrator removed the two-factor sign-in" in text
    assert "(الدار البيضاء time)" in text and analyst.email in html  # the city: the user's
    assert "you will be asked to set up two-factor sign-in again" in text
    assert "If you did not ask for this, contact the CERT" in text


def test_the_mail_says_the_user_may_enrol_again_when_the_role_does_not_require_it(
    db_session: Session, clock: FrozenClock
) -> None:
    lead = make_user(db_session, clock, role=Role.LEAD, locale="en")
    enrol(db_session, clock, lead)
    mfa_admin.reset_second_factor(db_session, SYSTEM, lead, settings=NOTICE, clock=clock)
    message = db_session.scalars(select(OutboxMessage)).one()
    context = dict(message.template_context or {})
    _, text, _ = render_mail("core", "auth/email/mfa_reset", "en", **context)
    assert context["must_enrol"] is False and "from your account page" in text
    assert "you will be asked" not in text


def test_only_an_administrator_resets_and_not_their_own(
    db_session: Session, clock: FrozenClock
) -> None:
    admin = make_user(db_session, clock, role=Role.ADMIN)
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    lead = make_user(db_session, clock, role=Role.LEAD)
    enrol(db_session, clock, analyst)
    enrol(db_session, clock, admin)
    for who in (lead, analyst):
        with pytest.raises(PermissionDenied):
            mfa_admin.reset_second_factor(
                db_session, actor_of(who), analyst, settings=NOTICE, clock=clock
            )
    with pytest.raises(ValidationFailed) as refused:
        mfa_admin.reset_second_factor(
            db_session, actor_of(admin), admin, settings=NOTICE, clock=clock
        )
    assert refused.value.fields == {"user": mfa_admin.OWN_RESET}
    assert analyst.mfa_enrolled and admin.mfa_enrolled
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # the CLI (the system) resets anyone: an only administrator who lost their phone
    assert mfa_admin.reset_second_factor(
        db_session, SYSTEM, admin, settings=NOTICE, clock=clock
    ).had


def test_a_reset_of_an_account_without_a_second_factor_changes_nothing(
    db_session: Session, clock: FrozenClock
) -> None:
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    _open(db_session, clock, analyst, 1)
    nonce = analyst.session_nonce
    outcome = mfa_admin.reset_second_factor(
        db_session, SYSTEM, analyst, settings=NOTICE, clock=clock
    )
    assert outcome == mfa_admin.ResetOutcome(had=False, sessions_ended=0, mail_id=None)
    assert analyst.session_nonce == nonce
    assert db_session.scalars(select(UserSession.ended_at)).all() == [None]
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # an enrolment begun (a pending secret: perhaps someone holding the password) is removed
    mfa.start_enrolment(db_session, analyst, seal=SEAL)
    assert mfa_admin.reset_second_factor(
        db_session, SYSTEM, analyst, settings=NOTICE, clock=clock
    ).had
    assert analyst.totp_pending_secret is None


def test_the_user_turns_it_off_only_when_the_role_allows_and_with_a_current_code(
    db_session: Session, clock: FrozenClock
) -> None:
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    secret, _ = enrol(db_session, clock, analyst)
    me = actor_of(analyst)
    with pytest.raises(ValidationFailed) as required:
        mfa_admin.disable_own_second_factor(
            db_session, me, analyst, mfa.current_code(secret, clock.now()),
            roles=ALL_ROLES, seal=SEAL, clock=clock,
        )  # fmt: skip
    assert required.value.fields == {"code": mfa_admin.REQUIRED_BY_ROLE}
    with pytest.raises(ValidationFailed) as wrong:
        mfa_admin.disable_own_second_factor(
            db_session, me, analyst, "000000", roles=frozenset(), seal=SEAL, clock=clock
        )
    assert wrong.value.fields == {"code": mfa_admin.WRONG_CODE}
    assert analyst.mfa_enrolled and _actions(db_session, analyst)[-1] == "mfa.failed"
    with pytest.raises(PermissionDenied):
        mfa_admin.disable_own_second_factor(
            db_session, SYSTEM, analyst, mfa.current_code(secret, clock.now()),
            roles=frozenset(), seal=SEAL, clock=clock,
        )  # fmt: skip
    mfa_admin.disable_own_second_factor(
        db_session, me, analyst, mfa.current_code(secret, clock.now()),
        roles=frozenset({"admin"}), seal=SEAL, clock=clock,
    )  # fmt: skip
    assert not analyst.mfa_enrolled and _actions(db_session, analyst)[-1] == "mfa.disable"
    with pytest.raises(ValidationFailed) as again:
        mfa_admin.disable_own_second_factor(
            db_session, me, analyst, "123456", roles=frozenset(), seal=SEAL, clock=clock
        )
    assert again.value.fields == {"code": mfa_admin.NOT_ENROLLED}


def test_new_recovery_codes_need_a_current_code_and_void_the_old_ones(
    db_session: Session, clock: FrozenClock
) -> None:
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    secret, old = enrol(db_session, clock, analyst)
    me = actor_of(analyst)
    with pytest.raises(ValidationFailed) as wrong:
        mfa_admin.new_recovery_codes(db_session, me, analyst, "12345", seal=SEAL, clock=clock)
    assert wrong.value.fields == {"code": mfa_admin.WRONG_CODE}
    code = mfa.current_code(secret, clock.now())
    new = mfa_admin.new_recovery_codes(db_session, me, analyst, code, seal=SEAL, clock=clock)
    assert len(new) == mfa.RECOVERY_CODES and not set(new) & set(old)
    with pytest.raises(ValidationFailed):  # the same code, replayed
        mfa_admin.new_recovery_codes(db_session, me, analyst, code, seal=SEAL, clock=clock)
    with pytest.raises(ValidationFailed):  # an old recovery code no longer works
        mfa_admin.new_recovery_codes(db_session, me, analyst, old[0], seal=SEAL, clock=clock)
    other = make_user(db_session, clock, role=Role.ANALYST)
    with pytest.raises(PermissionDenied):
        mfa_admin.new_recovery_codes(
            db_session, actor_of(other), analyst, new[0], seal=SEAL, clock=clock
        )
    assert mfa.remaining_recovery_codes(db_session, analyst) == mfa.RECOVERY_CODES
    # a recovery code proves the second factor too (and is used up by the new set)
    newer = mfa_admin.new_recovery_codes(db_session, me, analyst, new[1], seal=SEAL, clock=clock)
    assert mfa.remaining_recovery_codes(db_session, analyst) == 10 and new[1] not in newer


def test_wrong_codes_are_throttled_with_a_message_naming_the_code(
    db_session: Session, clock: FrozenClock
) -> None:
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    enrol(db_session, clock, analyst)
    reasons = []
    for _ in range(12):
        with pytest.raises(ValidationFailed) as refused:
            mfa_admin.new_recovery_codes(
                db_session, actor_of(analyst), analyst, "000000", seal=SEAL, clock=clock
            )
        reasons.append(refused.value.fields["code"])
    assert reasons[0] == mfa_admin.WRONG_CODE and reasons[-1] == mfa_admin.THROTTLED


def test_the_security_events_are_the_accounts_newest_first(
    db_session: Session, clock: FrozenClock
) -> None:
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    other = make_user(db_session, clock, role=Role.ANALYST)
    enrol(db_session, clock, analyst)
    enrol(db_session, clock, other)
    mfa_admin.reset_second_factor(db_session, SYSTEM, analyst, settings=NOTICE, clock=clock)
    events = mfa_admin.mfa_events(db_session, analyst)
    assert [e.action for e in events] == ["mfa.reset", "mfa.enrol"]  # not the sessions_end row
    assert len(mfa_admin.mfa_events(db_session, analyst, limit=1)) == 1
    status = mfa_admin.status(db_session, other, roles=frozenset({"analyst"}))
    assert status.enrolled and status.required and status.recovery_codes_left == 10
    assert not mfa_admin.status(db_session, analyst, roles=frozenset()).enrolled


def test_an_actor_built_by_hand_for_another_user_is_refused(
    db_session: Session, clock: FrozenClock
) -> None:
    analyst = make_user(db_session, clock, role=Role.ANALYST)
    enrol(db_session, clock, analyst)
    stranger = Actor(analyst.id + 1000, "x", Role.ANALYST, analyst.organisation_id)
    with pytest.raises(PermissionDenied):
        mfa_admin.disable_own_second_factor(
            db_session, stranger, analyst, "000000", roles=frozenset(), seal=SEAL, clock=clock
        )
