"""Administrators managing accounts through the kernel services (the CLI and the pages call the
same): changes audited with what changed, guards on one's own account and the last
administrator, deactivation ending sessions and tokens, the list's filters — on both DBs."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AccountAction, AuditEntry
from core.auth import resets, sessions
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.clock import FrozenClock
from core.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import OrganisationKind, Role, User
from tests.kit.factories import SYSTEM, make_org, make_token, make_user
from tests.kit.outbox import SECRET_KEY

SETTINGS = resets.LinkSettings(
    "https://vigie.example", 24, "Africa/Casablanca", "vigie.example", SECRET_KEY
)


def _entries(db: Session, action: AccountAction) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action.value)))


def test_update_user_changes_and_audits_only_what_changed(
    db_session: Session, clock: FrozenClock
) -> None:
    admin = make_user(db_session, clock, role=Role.ADMIN)
    cert = admin.organisation
    ministry = make_org(db_session, clock, slug="min-sante")
    user = make_user(db_session, clock, org=ministry, name="Amina Tazi")
    actor = Actor.for_user(admin, ip="192.0.2.7")
    changed = accounts.update_user(
        db_session, actor, user, name=" Amina Tazi ", role="analyst", organisation=cert,
        locale="ar", clock=clock,
    )  # fmt: skip
    assert changed and (user.role, user.organisation_id, user.locale) == ("analyst", cert.id, "ar")
    [entry] = _entries(db_session, AccountAction.USER_UPDATE)
    assert entry.before == {
        "role": "reporter", "organisation": "min-sante", "locale": "fr", "centres": [],
    }  # fmt: skip
    assert entry.after == {
        "role": "analyst", "organisation": cert.slug, "locale": "ar", "centres": ["national"],
    }  # fmt: skip
    assert (entry.actor_id, entry.ip, entry.object_id) == (admin.id, "192.0.2.7", str(user.id))
    same = accounts.update_user(
        db_session, actor, user, name="Amina Tazi", role="analyst", organisation=cert,
        locale="ar", clock=clock,
    )  # fmt: skip
    assert same is False and len(_entries(db_session, AccountAction.USER_UPDATE)) == 1


def test_update_user_names_every_bad_field(db_session: Session, clock: FrozenClock) -> None:
    ministry = make_org(db_session, clock)
    user = make_user(db_session, clock, org=ministry)
    with pytest.raises(ValidationFailed) as err:
        accounts.update_user(
            db_session, SYSTEM, user, name="x" * 201, role="analyst", organisation=ministry,
            locale="de", clock=clock,
        )  # fmt: skip
    assert err.value.fields == {
        "name": accounts.TOO_LONG,
        "role": accounts.ROLE_OUTSIDE_CERT,
        "locale": accounts.BAD_LOCALE,
    }
    db_session.refresh(user)
    assert user.role == Role.REPORTER


def test_an_admin_keeps_their_own_role_and_the_last_admin_stays(
    db_session: Session, clock: FrozenClock
) -> None:
    admin = make_user(db_session, clock, role=Role.ADMIN)
    me = Actor.for_user(admin)
    with pytest.raises(ValidationFailed) as err:
        accounts.update_user(
            db_session, me, admin, name=admin.name, role="analyst", organisation=admin.organisation,
            locale="fr", clock=clock,
        )  # fmt: skip
    assert err.value.fields == {"role": accounts.OWN_ROLE}
    with pytest.raises(ValidationFailed) as err:  # the CLI cannot remove the last one either
        accounts.update_user(
            db_session, SYSTEM, admin, name=admin.name, role="lead",
            organisation=admin.organisation, locale="fr", clock=clock,
        )  # fmt: skip
    assert err.value.fields == {"role": accounts.LAST_ADMIN}
    with pytest.raises(ValidationFailed) as err:
        accounts.set_active(db_session, SYSTEM, admin, False, clock=clock)
    assert err.value.fields == {"active": accounts.LAST_ADMIN}
    other = make_user(db_session, clock, role=Role.ADMIN, org=admin.organisation)
    with pytest.raises(ValidationFailed) as err:
        accounts.set_active(db_session, me, admin, False, clock=clock)
    assert err.value.fields == {"active": accounts.OWN_ACCOUNT}
    accounts.update_user(  # with a second administrator, the first may become a lead
        db_session, Actor.for_user(other), admin, name=admin.name, role="lead",
        organisation=admin.organisation, locale="fr", clock=clock,
    )  # fmt: skip
    assert admin.role == Role.LEAD


@pytest.mark.parametrize("role", [Role.REPORTER, Role.ANALYST, Role.LEAD])
def test_only_admins_manage_accounts(db_session: Session, clock: FrozenClock, role: str) -> None:
    actor = Actor.for_user(make_user(db_session, clock, role=role))
    victim = make_user(db_session, clock)
    calls = [
        lambda: accounts.update_user(
            db_session,
            actor,
            victim,
            name="x",
            role="reporter",
            organisation=victim.organisation,
            locale="fr",
            clock=clock,
        ),  # fmt: skip
        lambda: accounts.set_active(db_session, actor, victim, False, clock=clock),
        lambda: resets.send_link(db_session, actor, victim, settings=SETTINGS, clock=clock),
        lambda: accounts.end_all_sessions(db_session, actor, victim, clock=clock),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    db_session.refresh(victim)
    assert victim.is_active and victim.name == "Test User"


def test_deactivation_ends_sessions_and_tokens_until_reactivated(
    db_session: Session, clock: FrozenClock
) -> None:
    admin = Actor.for_user(make_user(db_session, clock, role=Role.ADMIN))
    user = make_user(db_session, clock)
    _token, secret = make_token(db_session, clock, user)
    sessions.start_session(db_session, user, ip=None, user_agent=None, clock=clock)
    nonce = user.session_nonce
    accounts.set_active(db_session, admin, user, False, clock=clock)
    policy = sessions.SessionPolicy.of(idle_minutes=30, max_hours=12)
    assert sessions.open_sessions(db_session, user, policy=policy, clock=clock) == []
    assert user.session_nonce != nonce
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate_token(db_session, secret, clock=clock)
    accounts.set_active(db_session, admin, user, True, clock=clock)
    assert api_tokens.authenticate_token(db_session, secret, clock=clock).user is user
    assert [e.after for e in _entries(db_session, AccountAction.USER_DEACTIVATE)] == [
        {"is_active": False}
    ]


def test_a_duplicate_address_is_a_conflict_naming_the_field(
    db_session: Session, clock: FrozenClock
) -> None:
    make_user(db_session, clock, email="rssi@sante.gov.ma")
    with pytest.raises(Conflict) as err:
        make_user(db_session, clock, email="RSSI@Sante.gov.ma ")
    assert err.value.fields == {"email": accounts.EMAIL_TAKEN}
    with pytest.raises(ValidationFailed) as bad:
        make_user(db_session, clock, email="not an address")
    assert bad.value.fields == {"email": accounts.BAD_EMAIL}


def test_an_account_without_password_cannot_sign_in(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, password=None)
    assert user.password_hash is None
    for attempt in ("", "anything at all"):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(db_session, user.email, attempt, ip=None, clock=clock)


def test_the_users_list_filters(db_session: Session, clock: FrozenClock) -> None:
    cert = make_org(db_session, clock, kind=OrganisationKind.CERT)
    ministry = make_org(db_session, clock)
    make_user(db_session, clock, org=cert, role=Role.ANALYST, name="Nadia 100%_sure",
              email="nadia@cert.example")  # fmt: skip
    make_user(db_session, clock, org=ministry, name="Karim", email="karim@sante.example")
    gone = make_user(db_session, clock, org=ministry, name="Omar", email="omar@sante.example")
    accounts.set_active(db_session, SYSTEM, gone, False, clock=clock)

    def emails(**filters: object) -> list[str]:
        return [u.email for u in db_session.scalars(accounts.users_query(**filters))]  # type: ignore[arg-type]

    assert emails(q="NADIA") == ["nadia@cert.example"]
    assert emails(q="100%_") == ["nadia@cert.example"]  # % and _ are letters here
    assert emails(q="%") == ["nadia@cert.example"]
    assert emails(q="sante.example") == ["karim@sante.example", "omar@sante.example"]
    assert emails(role="analyst") == ["nadia@cert.example"]
    assert emails(organisation_id=ministry.id, active=True) == ["karim@sante.example"]
    assert emails(active=False) == ["omar@sante.example"]
    assert set(emails()) >= {"nadia@cert.example", "karim@sante.example"}
    assert all(isinstance(u, User) for u in db_session.scalars(accounts.users_query()))
