"""The notification tests' cast: two ministries and their reporters (the first writes English, so
the mails it receives are checked in a second language), two analysts and a lead, built with the
kit's factories. Kept apart from ``tests.kit.world`` because the mail and mention tests name these
people's addresses and languages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from tests.kit.factories import PASSWORD, make_org, make_user


@dataclass
class World:
    interieur: Organisation
    sante: Organisation
    reporter: User  # of interieur, writes English
    other_reporter: User  # of sante
    analyst: User
    analyst2: User
    lead: User

    @staticmethod
    def actor(user: User) -> Actor:
        return Actor.for_user(user)


def make_world(session: Session, clock: FrozenClock, *, login: bool = False) -> World:
    """Users without passwords (hashing is slow) unless ``login``: then the reporters, the
    analyst and the lead can sign in with the kit's ``PASSWORD``."""
    secret = PASSWORD if login else None
    interieur = make_org(session, clock, slug="min-interieur")
    sante = make_org(session, clock, slug="min-sante")
    return World(
        interieur=interieur,
        sante=sante,
        reporter=make_user(
            session, clock, org=interieur, email="amal@interieur.gov.ma", locale="en",
            password=secret,
        ),
        other_reporter=make_user(
            session, clock, org=sante, email="karim@sante.gov.ma", password=secret
        ),
        analyst=make_user(
            session, clock, role=Role.ANALYST, email="analyst@cert.ma", password=secret
        ),
        analyst2=make_user(
            session, clock, role=Role.ANALYST, email="analyst2@cert.ma", password=None
        ),
        lead=make_user(session, clock, role=Role.LEAD, email="lead@cert.ma", password=secret),
    )  # fmt: skip
