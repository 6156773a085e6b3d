"""Factories: keyword-default functions that create rows through the kernel services (add + flush,

audit rows included). They act as ``Actor.system("test")``; pass ``db_session`` and ``clock``.
"""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from core.auth import organisations as orgs
from core.auth import services as accounts
from core.clock import Clock
from core.identity.authz import Actor
from core.identity.models import ApiToken, Organisation, OrganisationKind, Role, User

SYSTEM = Actor.system("test")
PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def make_org(
    session: Session,
    clock: Clock,
    *,
    slug: str | None = None,
    kind: str = OrganisationKind.MINISTRY,
    name: str | None = None,
    name_ar: str | None = None,
    sector: str | None = None,
) -> Organisation:
    slug = slug or f"org-{next(_sequence)}"
    org = orgs.create_organisation(
        session,
        SYSTEM,
        slug=slug,
        name=name or f"Organisation {slug}",
        name_ar=name_ar,
        kind=kind,
        sector=sector,
        clock=clock,
    )
    session.flush()  # the audit row too: the app under test shares the connection
    return org


def make_user(
    session: Session,
    clock: Clock,
    *,
    role: str = Role.REPORTER,
    password: str | None = PASSWORD,
    email: str | None = None,
    name: str = "Test User",
    org: Organisation | None = None,
    locale: str = "fr",
) -> User:
    """A user; staff get a CERT organisation and reporters a ministry unless ``org`` is given."""
    if org is None:
        kind = OrganisationKind.MINISTRY if role == Role.REPORTER else OrganisationKind.CERT
        org = make_org(session, clock, kind=kind)
    user = accounts.create_user(
        session,
        SYSTEM,
        email=email or f"user{next(_sequence)}@example.gov.ma",
        name=name,
        role=role,
        organisation=org,
        password=password,
        locale=locale,
        clock=clock,
    )
    session.flush()
    return user


def make_token(
    session: Session, clock: Clock, user: User, *, label: str = "test script"
) -> tuple[ApiToken, str]:
    """An API token of ``user``: the row and the secret (shown once in real life)."""
    token, secret = accounts.create_token(session, SYSTEM, user, label=label, clock=clock)
    session.flush()
    return token, secret
