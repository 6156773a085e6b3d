"""Three vigilance centres for the duty and escalation tests: the national one (a lead, an
analyst on standing duty), a health centre in Casablanca's time zone (a lead, an analyst on
standing duty, another on a shift of the rota) and a finance centre (a lead, an analyst on
standing duty); a health-sector ministry whose reports the routing rule sends to the health
centre. Built with the real account and intake services; the centres and shifts as rows (their
management is another module's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.auth import services as accounts
from core.clock import Clock, FrozenClock
from core.identity.authz import Actor
from core.identity.centres import Centre, CentreMember, DutyShift, national_centre
from core.identity.models import Organisation, OrganisationKind, Role, User
from tests.kit.factories import PASSWORD, make_org, make_user

SYSTEM = Actor.system("test")
CASABLANCA = "Africa/Casablanca"  # UTC+1 in January 2026


@dataclass
class Centres:
    national: Centre
    health: Centre
    finance: Centre
    sante: Organisation  # a health-sector ministry: its reports go to the health centre
    reporter: User  # of sante
    national_lead: User
    national_duty: User  # standing duty, national centre
    health_lead: User
    health_standing: User  # standing duty, health centre
    health_shift: User  # on a shift of the health centre's rota
    finance_lead: User
    finance_duty: User  # standing duty, finance centre


def make_centre(session: Session, clock: Clock, slug: str, sector: str) -> Centre:
    now = clock.now()
    centre = Centre(
        slug=slug,
        name=f"Centre {slug}",
        name_ar=f"مركز {slug}",
        sectors=[sector],
        regions=[],
        categories=[],
        timezone=CASABLANCA,
        working_hours={},
        created_at=now,
        updated_at=now,
    )
    session.add(centre)
    session.flush()
    return centre


def staff(
    session: Session,
    clock: Clock,
    centre: Centre,
    email: str,
    *,
    role: Role = Role.ANALYST,
    standing: bool = False,
) -> User:
    cert = make_org(session, clock, kind=OrganisationKind.CERT)
    user = accounts.create_user(
        session,
        SYSTEM,
        email=email,
        name=email.split("@")[0].replace(".", " ").title(),
        role=role,
        organisation=cert,
        password=PASSWORD,  # cheap hashing in tests: everyone can sign in
        clock=clock,
        centre=centre,
    )
    session.flush()
    if standing:
        session.execute(
            update(CentreMember)
            .where(CentreMember.user_id == user.id, CentreMember.centre_id == centre.id)
            .values(on_duty=True)
        )
    return user


def local(day: dt.date, hour: int, zone: str = CASABLANCA) -> dt.datetime:
    """``hour`` o'clock on ``day`` in ``zone``, in UTC (as the rota stores it)."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def add_shift(
    session: Session,
    clock: Clock,
    centre: Centre,
    user: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> DutyShift:
    shift = DutyShift(
        centre_id=centre.id,
        user_id=user.id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=None,
        created_at=clock.now(),
    )
    session.add(shift)
    session.flush()
    return shift


def make_centres(session: Session, clock: FrozenClock) -> Centres:
    """The three centres; the health shift runs 09:00–17:00 Casablanca time on the clock's day
    (08:00–16:00 UTC in January: it covers the default clock's 09:00 UTC)."""
    national = national_centre(session)
    health = make_centre(session, clock, "sante", "health")
    finance = make_centre(session, clock, "finances", "finance")
    sante = make_org(session, clock, slug="min-sante", sector="health")
    centres = Centres(
        national=national,
        health=health,
        finance=finance,
        sante=sante,
        reporter=make_user(session, clock, org=sante, email="rssi@sante.gov.ma", password=None),
        national_lead=staff(session, clock, national, "chef@cert.ma", role=Role.LEAD),
        national_duty=staff(session, clock, national, "veille@cert.ma", standing=True),
        health_lead=staff(session, clock, health, "chef.sante@cert.ma", role=Role.LEAD),
        health_standing=staff(session, clock, health, "garde.sante@cert.ma", standing=True),
        health_shift=staff(session, clock, health, "equipe.sante@cert.ma"),
        finance_lead=staff(session, clock, finance, "chef.finances@cert.ma", role=Role.LEAD),
        finance_duty=staff(session, clock, finance, "garde.finances@cert.ma", standing=True),
    )
    day = clock.now().date()
    add_shift(session, clock, health, centres.health_shift, local(day, 9), local(day, 17))
    return centres
