"""Single sign-on kernel: what a provider's verified claims sign in — accounts created, linked,
kept in step with the role map, deactivated — and every refusal audited, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.auth import resets, sessions
from core.auth import services as accounts
from core.auth.sso import SsoRefused, record_refusal, role_values, sign_in_with_claims, unlink
from core.auth.sso_config import SsoSettings, parse_role_map
from core.clock import FrozenClock
from core.errors import AuthenticationFailed, PermissionDenied
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationKind, Role, User, UserSession
from tests.kit.factories import PASSWORD, make_org, make_user

ROLE_MAP = (
    "cert-analysts=analyst@macert,cert-leads=lead@macert,cert-admins=admin@macert,"
    "sante-soc=reporter@min-sante,wrong=analyst@min-sante,ghost=reporter@nowhere"
)


def _settings(**changes: Any) -> SsoSettings:
    values: dict[str, Any] = {
        "issuer": "https://idp.example.ma/realms/gov",
        "client_id": "vigie",
        "client_secret": "secret",
        "role_claim": "roles",
        "role_map": parse_role_map(ROLE_MAP),
        "provider_name": "ID Gouv",
        "scopes": "openid email profile",
        "local_passwords": True,
    }
    values.update(changes)
    return SsoSettings(**values)


@pytest.fixture
def macert(db_session: Session, clock: FrozenClock) -> Organisation:
    return make_org(db_session, clock, slug="macert", kind=OrganisationKind.CERT)


@pytest.fixture
def min_sante(db_session: Session, clock: FrozenClock) -> Organisation:
    return make_org(db_session, clock, slug="min-sante")


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "f3a1-77",
        "email": "Nadia.Alaoui@cert.gov.ma",
        "email_verified": True,
        "name": "Nadia Alaoui",
        "locale": "ar-MA",
        "roles": ["cert-analysts", "unrelated"],
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _sign_in(
    db: Session, clock: FrozenClock, settings: SsoSettings | None = None, **claims: Any
) -> User:
    return sign_in_with_claims(
        db, _claims(**claims), settings=settings or _settings(), clock=clock, ip="192.0.2.7"
    )


def _refused(
    db: Session, clock: FrozenClock, settings: SsoSettings | None = None, **claims: Any
) -> SsoRefused:
    with pytest.raises(SsoRefused) as err:
        _sign_in(db, clock, settings, **claims)
    return err.value


def _actions(db: Session) -> list[tuple[str, str | None]]:
    query = select(AuditEntry.action, AuditEntry.object_id).order_by(AuditEntry.id)
    return [(action, object_id) for action, object_id in db.execute(query)]


def _reasons(db: Session) -> list[str]:
    query = select(AuditEntry).where(AuditEntry.action == "sso.refused").order_by(AuditEntry.id)
    return [entry.after["reason"] for entry in db.scalars(query)]


def test_a_first_sign_in_creates_the_account_with_the_mapped_role(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    user = _sign_in(db_session, clock)
    assert (user.email, user.name, user.locale) == (
        "nadia.alaoui@cert.gov.ma",
        "Nadia Alaoui",
        "ar",
    )
    assert (user.role, user.organisation_id) == (Role.ANALYST, macert.id)
    assert user.oidc_subject == "f3a1-77" and user.password_hash is None
    assert user.is_active and user.password_login and user.last_login_at == clock.now()
    actions = [action for action, _ in _actions(db_session) if action.startswith(("user", "sso"))]
    assert actions == ["user.create", "sso.link", "sso.login"]
    login = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.login")).one()
    assert login.after == {"subject": "f3a1-77", "role": "analyst", "organisation": "macert"}
    assert login.actor_id == user.id and login.ip == "192.0.2.7"


def test_the_next_sign_in_finds_the_account_by_subject(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    first = _sign_in(db_session, clock)
    again = _sign_in(db_session, clock, email="nadia@new-address.gov.ma")
    assert again.id == first.id and again.email == "nadia.alaoui@cert.gov.ma"
    assert [a for a, _ in _actions(db_session)].count("sso.link") == 1


def test_an_existing_account_is_linked_by_its_verified_address_and_follows_the_map(
    db_session: Session, clock: FrozenClock, macert: Organisation, min_sante: Organisation
) -> None:
    local = make_user(db_session, clock, email="nadia.alaoui@cert.gov.ma", org=min_sante)
    user = _sign_in(db_session, clock, roles=["cert-leads"])
    assert user.id == local.id and user.oidc_subject == "f3a1-77"
    assert (user.role, user.organisation_id) == (Role.LEAD, macert.id)
    assert user.password_hash is not None  # kept: CERT_OIDC_LOCAL_PASSWORDS is on
    update = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).one()
    assert update.after["role"] == "lead" and update.after["organisation"] == "macert"
    assert update.actor_label == "sso"


def test_an_unverified_address_is_refused_and_nothing_is_created(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    for value in (False, "false", None):
        refusal = _refused(db_session, clock, email_verified=value)
        assert refusal.reason == "The identity provider has not verified this e-mail address."
    assert db_session.scalars(select(User)).all() == []
    assert _reasons(db_session) == ["email not verified by the provider"] * 3


@pytest.mark.parametrize(
    "claims", [{"sub": None}, {"sub": ""}, {"email": None}, {"sub": "x" * 256}, {"email": "nope"}]
)
def test_the_subject_and_a_valid_address_are_required(
    db_session: Session, clock: FrozenClock, macert: Organisation, claims: dict[str, Any]
) -> None:
    refusal = _refused(db_session, clock, **claims)
    assert "identifier and e-mail address" in refusal.reason
    assert db_session.scalars(select(User)).all() == []


def test_an_account_linked_to_another_subject_is_not_taken_over(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    first = _sign_in(db_session, clock)
    refusal = _refused(db_session, clock, sub="someone-else")
    assert "linked to another identity at ID Gouv" in refusal.reason
    assert db_session.get(User, first.id).oidc_subject == "f3a1-77"  # type: ignore[union-attr]


def test_a_local_administrator_is_never_linked_by_address(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    admin = make_user(
        db_session, clock, role=Role.ADMIN, email="nadia.alaoui@cert.gov.ma", org=macert
    )
    refusal = _refused(db_session, clock, roles=["cert-admins"])
    assert "Administrator accounts created in Vigie are not linked to ID Gouv" in refusal.reason
    assert admin.oidc_subject is None and admin.role == Role.ADMIN
    assert _reasons(db_session) == ["local administrator: not linked by e-mail"]


def test_an_unknown_role_claim_is_refused_without_an_account(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    refusal = _refused(db_session, clock, roles=["students"])
    assert str(refusal.reason) == (
        "Your account at ID Gouv gives no access to Vigie: ask your CERT contact."
    )
    assert refusal.reason.msgid.startswith("Your account at %(provider)s")
    assert db_session.scalars(select(User)).all() == []


def test_claims_that_no_longer_map_deactivate_a_linked_account(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    user = _sign_in(db_session, clock)
    row, _token = sessions.start_session(db_session, user, ip=None, user_agent=None, clock=clock)
    nonce = user.session_nonce
    _refused(db_session, clock, roles=[])
    assert not user.is_active and user.session_nonce != nonce
    ended = select(UserSession.ended_reason).where(UserSession.id == row.id)
    assert db_session.scalar(ended) == sessions.EndReason.DEACTIVATED
    assert _reasons(db_session) == ["no role claim value maps to a Vigie role: account deactivated"]
    # the claims map again: still refused, an administrator reactivates the account
    refusal = _refused(db_session, clock)
    assert refusal.reason == "This Vigie account is deactivated: ask your CERT contact."


def test_an_unlinked_local_account_is_not_deactivated_by_claims_that_do_not_map(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    local = make_user(
        db_session, clock, email="nadia.alaoui@cert.gov.ma", org=macert, role=Role.ANALYST
    )
    _refused(db_session, clock, roles=["students"])
    assert local.is_active and local.oidc_subject is None


def test_the_last_active_administrator_is_kept_active(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    user = _sign_in(db_session, clock, roles=["cert-admins"])
    assert user.role == Role.ADMIN
    _refused(db_session, clock, roles=[])
    assert user.is_active
    assert _reasons(db_session) == [
        "no role claim value maps to a Vigie role: last active administrator, kept active"
    ]
    refusal = _refused(db_session, clock, roles=["cert-analysts"])  # would demote the last admin
    assert "could not be applied" in refusal.reason and user.role == Role.ADMIN


def test_an_inactive_account_is_refused(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    user = make_user(
        db_session, clock, email="nadia.alaoui@cert.gov.ma", org=macert, role=Role.ANALYST
    )
    accounts.set_active(db_session, Actor.system("t"), user, False, clock=clock)
    refusal = _refused(db_session, clock)
    assert "deactivated" in refusal.reason and user.oidc_subject is None


def test_without_local_passwords_a_linked_account_signs_in_at_the_provider_only(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    local = make_user(
        db_session, clock, email="nadia.alaoui@cert.gov.ma", org=macert, role=Role.ANALYST
    )
    accounts.authenticate(db_session, local.email, PASSWORD, ip=None, clock=clock)
    user = _sign_in(db_session, clock, _settings(local_passwords=False))
    assert user.password_login is False
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db_session, local.email, PASSWORD, ip=None, clock=clock)
    link = resets.LinkSettings(
        "https://vigie.example", 24, "Africa/Casablanca", "v.example", "k" * 40
    )
    assert not resets.request_link(db_session, local.email, ip=None, settings=link, clock=clock)
    _sign_in(db_session, clock)  # turned back on: the password works again
    accounts.authenticate(db_session, local.email, PASSWORD, ip=None, clock=clock)
    assert resets.request_link(db_session, local.email, ip=None, settings=link, clock=clock)


def test_an_organisation_missing_or_unfit_is_refused_at_sign_in(
    db_session: Session, clock: FrozenClock, macert: Organisation, min_sante: Organisation
) -> None:
    for roles in (["ghost"], ["wrong"]):
        refusal = _refused(db_session, clock, roles=roles)
        assert "name an organisation that does not fit" in refusal.reason
    assert _reasons(db_session) == [
        "CERT_OIDC_ROLE_MAP: organisation 'nowhere' unknown or unfit",
        "CERT_OIDC_ROLE_MAP: organisation 'min-sante' unknown or unfit",
    ]
    assert db_session.scalars(select(User)).all() == []
    # an existing account is not linked when its sign-in is refused
    local = make_user(db_session, clock, email="nadia.alaoui@cert.gov.ma", org=min_sante)
    _refused(db_session, clock, roles=["wrong"])
    assert local.oidc_subject is None
    assert "sso.link" not in [action for action, _ in _actions(db_session)]


def test_the_highest_role_of_several_values_wins(
    db_session: Session, clock: FrozenClock, macert: Organisation, min_sante: Organisation
) -> None:
    user = _sign_in(db_session, clock, roles=["sante-soc", "cert-leads", "cert-analysts"])
    assert (user.role, user.organisation_id) == (Role.LEAD, macert.id)


def test_a_reporter_mapped_to_a_ministry(
    db_session: Session, clock: FrozenClock, min_sante: Organisation
) -> None:
    user = _sign_in(
        db_session,
        clock,
        roles="sante-soc",
        locale=None,
        name=None,
        given_name="Karim",
        family_name="B",
    )
    assert (user.role, user.organisation_id, user.name, user.locale) == (
        Role.REPORTER,
        min_sante.id,
        "Karim B",
        "fr",
    )


def test_role_values_reach_into_objects() -> None:
    claims = {"realm_access": {"roles": ["a", 3, "b"]}, "group": "g", "n": 1}
    assert role_values(claims, "realm_access.roles") == ["a", "b"]
    assert role_values(claims, "group") == ["g"]
    assert role_values(claims, "n") == [] and role_values(claims, "missing.x") == []


def test_a_refusal_before_the_claims_is_audited(db_session: Session, clock: FrozenClock) -> None:
    record_refusal(
        db_session, "state missing or forged", settings=_settings(), clock=clock, ip="192.0.2.9"
    )
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.refused")).one()
    assert (entry.object_type, entry.after["reason"], entry.ip) == (
        "sso",
        "state missing or forged",
        "192.0.2.9",
    )


def test_an_administrator_unlinks_an_account_and_the_next_sign_in_links_it_again(
    db_session: Session, clock: FrozenClock, macert: Organisation
) -> None:
    user = _sign_in(db_session, clock, _settings(local_passwords=False))
    assert user.password_login is False
    # the person's account at the provider was recreated: another subject, the same address
    assert "linked to another identity" in _refused(db_session, clock, sub="new-77").reason
    with pytest.raises(PermissionDenied):
        unlink(db_session, Actor.for_user(user), user, clock=clock)
    assert unlink(db_session, Actor.system("cli"), user, clock=clock) is True
    assert (user.oidc_subject, user.password_login) == (None, True)
    assert unlink(db_session, Actor.system("cli"), user, clock=clock) is False
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.unlink")).one()
    assert entry.before == {"subject": "f3a1-77", "password_login": False}
    again = _sign_in(db_session, clock, sub="new-77")
    assert again.id == user.id and again.oidc_subject == "new-77"
