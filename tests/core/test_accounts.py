"""Accounts kernel: organisations, users, passwords, tokens, authorisation, audit — on both DBs."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.auth import organisations as orgs
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.clock import FrozenClock
from core.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor, at_least, can_see_organisation, check_organisation
from core.identity.models import ApiToken, Organisation, Role
from tests.kit.factories import PASSWORD, make_org, make_user

SYSTEM = Actor.system("test")


def test_organisation_validation_names_every_bad_field(
    db_session: Session, clock: FrozenClock
) -> None:
    with pytest.raises(ValidationFailed) as err:
        orgs.create_organisation(
            db_session,
            SYSTEM,
            slug="Bad Slug!",
            name=" ",
            kind="club",
            contact_emails=["not-an-address"],
            clock=clock,
        )
    assert set(err.value.fields) == {"slug", "name", "kind", "contact_emails"}
    assert db_session.scalars(select(Organisation)).all() == []


def test_duplicate_slug_is_a_conflict(db_session: Session, clock: FrozenClock) -> None:
    make_org(db_session, clock, slug="min-test")
    with pytest.raises(Conflict):
        make_org(db_session, clock, slug="MIN-TEST")


def test_assets_are_canonicalised_and_unique(db_session: Session, clock: FrozenClock) -> None:
    org = make_org(db_session, clock)
    domain = orgs.add_asset(
        db_session, SYSTEM, org, kind="domain", value=" Sante.GOV.ma. ", clock=clock
    )
    net = orgs.add_asset(
        db_session, SYSTEM, org, kind="ip_range", value="198.51.100.77/24", clock=clock
    )
    assert (domain.value, net.value) == ("sante.gov.ma", "198.51.100.0/24")
    with pytest.raises(Conflict):
        orgs.add_asset(db_session, SYSTEM, org, kind="domain", value="sante.gov.ma", clock=clock)
    for kind, value in [
        ("domain", "-bad-.gov.ma"),
        ("domain", "not a domain"),
        ("ip_range", "300.1.1.1"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            orgs.add_asset(db_session, SYSTEM, org, kind=kind, value=value, clock=clock)
        assert "value" in err.value.fields


def test_user_creation_rules(db_session: Session, clock: FrozenClock) -> None:
    ministry = make_org(db_session, clock)
    cert_org = make_org(db_session, clock, slug="macert", kind="cert")
    user = make_user(db_session, clock, org=ministry, email="  RSSI@Interieur.GOV.MA ")
    assert user.email == "rssi@interieur.gov.ma"
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    with pytest.raises(Conflict):
        make_user(db_session, clock, org=ministry, email="rssi@interieur.gov.ma")
    with pytest.raises(ValidationFailed) as err:  # CERT roles belong to the CERT
        make_user(db_session, clock, org=ministry, email="analyst@interieur.gov.ma", role="analyst")
    assert "role" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        accounts.create_user(
            db_session,
            SYSTEM,
            email="x",
            name="",
            role="god",
            organisation=cert_org,
            password="short",
            locale="de",
            clock=clock,
        )
    assert set(err.value.fields) == {"email", "name", "role", "password", "locale"}
    assert make_user(
        db_session, clock, org=cert_org, email="analyste@macert.gov.ma", role="analyst"
    ).is_cert_staff


def test_only_admins_create_accounts(db_session: Session, clock: FrozenClock) -> None:
    org = make_org(db_session, clock)
    reporter = Actor.for_user(make_user(db_session, clock, org=org, email="a@min.ma"))
    with pytest.raises(PermissionDenied):
        orgs.create_organisation(db_session, reporter, slug="x", name="X", clock=clock)
    with pytest.raises(PermissionDenied):
        accounts.create_user(
            db_session,
            reporter,
            email="b@min.ma",
            name="B",
            role="reporter",
            organisation=org,
            password=PASSWORD,
            clock=clock,
        )


def test_authenticate(db_session: Session, clock: FrozenClock) -> None:
    org = make_org(db_session, clock)
    user = make_user(db_session, clock, org=org, email="a@min.ma")
    assert (
        accounts.authenticate(db_session, "A@min.ma", PASSWORD, ip="192.0.2.1", clock=clock) is user
    )
    assert user.last_login_at == clock.now()
    for email, password in [("a@min.ma", "wrong password!"), ("nobody@min.ma", PASSWORD)]:
        with pytest.raises(AuthenticationFailed, match="invalid e-mail or password"):
            accounts.authenticate(db_session, email, password, ip="192.0.2.1", clock=clock)
    accounts.set_active(db_session, SYSTEM, user, False, clock=clock)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db_session, "a@min.ma", PASSWORD, ip=None, clock=clock)
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("auth.login") == 1 and actions.count("auth.login_failed") == 3


def test_password_change_rotates_the_session_nonce(db_session: Session, clock: FrozenClock) -> None:
    user = make_user(db_session, clock, org=make_org(db_session, clock), email="a@min.ma")
    nonce = user.session_nonce
    accounts.set_password(
        db_session, Actor.for_user(user), user, "another long password", clock=clock
    )
    assert user.session_nonce != nonce
    assert accounts.authenticate(
        db_session, "a@min.ma", "another long password", ip=None, clock=clock
    )
    with pytest.raises(ValidationFailed):
        accounts.set_password(db_session, SYSTEM, user, "short", clock=clock)


def test_tokens_are_stored_hashed_and_revocable(db_session: Session, clock: FrozenClock) -> None:
    user = make_user(db_session, clock, org=make_org(db_session, clock), email="a@min.ma")
    token, secret = api_tokens.create_token(db_session, SYSTEM, user, label="siem", clock=clock)
    stored = db_session.scalars(select(ApiToken)).one()
    assert secret.startswith("vig_") and len(secret) > 40
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.token_hash, stored.prefix, stored.label}
    assert stored.last_used_at is None
    clock.advance(minutes=5)
    assert api_tokens.authenticate_token(db_session, secret, clock=clock).user is user
    assert stored.last_used_at == clock.now()
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate_token(db_session, secret + "x", clock=clock)
    api_tokens.revoke_token(db_session, SYSTEM, token, clock=clock)
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate_token(db_session, secret, clock=clock)


def test_tokens_of_deactivated_users_stop_working(db_session: Session, clock: FrozenClock) -> None:
    user = make_user(db_session, clock, org=make_org(db_session, clock), email="a@min.ma")
    _token, secret = api_tokens.create_token(db_session, SYSTEM, user, label="x", clock=clock)
    accounts.set_active(db_session, SYSTEM, user, False, clock=clock)
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate_token(db_session, secret, clock=clock)


def test_users_cannot_manage_other_users_tokens(db_session: Session, clock: FrozenClock) -> None:
    org = make_org(db_session, clock)
    alice, bob = (
        make_user(db_session, clock, org=org, email="alice@min.ma"),
        make_user(db_session, clock, org=org, email="bob@min.ma"),
    )
    token, _ = api_tokens.create_token(
        db_session, Actor.for_user(alice), alice, label="mine", clock=clock
    )
    with pytest.raises(PermissionDenied):
        api_tokens.create_token(db_session, Actor.for_user(bob), alice, label="steal", clock=clock)
    with pytest.raises(PermissionDenied):
        api_tokens.revoke_token(db_session, Actor.for_user(bob), token, clock=clock)


def test_authorisation_isolates_organisations(db_session: Session, clock: FrozenClock) -> None:
    interieur, sante = (
        make_org(db_session, clock, slug="min-interieur"),
        make_org(db_session, clock, slug="min-sante"),
    )
    cert_org = make_org(db_session, clock, slug="macert", kind="cert")
    reporter = Actor.for_user(make_user(db_session, clock, org=interieur, email="r@interieur.ma"))
    analyst = Actor.for_user(
        make_user(db_session, clock, org=cert_org, email="a@macert.ma", role="analyst")
    )
    assert can_see_organisation(reporter, interieur.id)
    assert not can_see_organisation(reporter, sante.id)
    assert can_see_organisation(analyst, sante.id)
    with pytest.raises(NotFound):  # 404, never "exists but forbidden"
        check_organisation(reporter, sante)
    assert at_least(analyst, Role.ANALYST) and not at_least(analyst, Role.LEAD)
    assert not at_least(reporter, Role.ANALYST)
    assert at_least(SYSTEM, Role.ADMIN)


def test_every_change_is_audited_with_actor_and_summary(
    db_session: Session, clock: FrozenClock
) -> None:
    org = make_org(db_session, clock, slug="min-test")
    user = make_user(db_session, clock, org=org, email="a@min.ma")
    entries = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.object_id) for e in entries] == [
        ("organisation.create", str(org.id)),
        ("user.create", str(user.id)),
    ]
    assert entries[1].actor_label == "test"
    assert entries[1].after == {"email": "a@min.ma", "role": "reporter", "organisation": "min-test"}
    assert entries[1].at == clock.now()


def test_token_use_is_stamped_at_most_once_a_minute(
    db_session: Session, clock: FrozenClock
) -> None:
    user = make_user(db_session, clock, org=make_org(db_session, clock), email="a@min.ma")
    token, secret = api_tokens.create_token(db_session, SYSTEM, user, label="siem", clock=clock)
    api_tokens.authenticate_token(db_session, secret, clock=clock)
    first = token.last_used_at
    db_session.commit()
    clock.advance(seconds=30)
    api_tokens.authenticate_token(db_session, secret, clock=clock)
    assert token.last_used_at == first and not db_session.dirty  # a read, not a write
    clock.advance(seconds=30)
    api_tokens.authenticate_token(db_session, secret, clock=clock)
    assert token.last_used_at == clock.now()


def test_api_tokens_have_one_home_and_the_accounts_module_stays_under_400_lines() -> None:
    names = ("TOKEN_PREFIX", "access_token", "authenticate_token", "create_token", "list_tokens")
    assert [name for name in (*names, "revoke_token") if hasattr(accounts, name)] == []
    assert all(hasattr(api_tokens, name) for name in names)
    with open(accounts.__file__, encoding="utf-8") as source:
        assert len(source.readlines()) <= 400
