"""``cert demo``: the vigilance centres of the demo (Flask-free) — besides the national
coordination centre (migration 0037), a **health** centre (``sante``: the health sector and the
CNSS by name) and a **finance** centre (``finances``: the finance sector), each with a lead and
analysts, a standing on-duty analyst, a contact address, working hours and a rota of shifts for
the coming week in its time zone (Africa/Casablanca): the day shift (08:30–16:30) alternating
between its analysts, the out-of-hours shift (16:30–08:30) with its lead; the national centre
gets the same from the national staff. Demo reports are then routed by the real intake, so
some land in each centre.

Idempotent: a centre whose slug exists is left as it is (a lead may have changed it), a member
already there is not added again, a shift the rota already has (same centre, person and start)
is not created again — a later run adds only the days that came into the coming week; a shift
already over is not added. Everything goes through the administrators' services
(``core.auth.centre_admin``, ``core.auth.centre_members``): validated and audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import services as accounts
from core.auth.centre_admin import create_centre
from core.auth.centre_members import add_member, add_shift, set_on_duty
from core.clock import Clock
from core.identity.authz import Actor
from core.identity.centres import (
    DEFAULT_TIMEZONE,
    DEFAULT_WORKING_HOURS,
    NATIONAL_SLUG,
    Centre,
    CentreMember,
    DutyShift,
)
from core.identity.models import Organisation, Role, User

ROTA_DAYS = 7
DAY_START, DAY_END = dt.time(8, 30), dt.time(16, 30)  # the working hours; the rest: on call


@dataclass(frozen=True)
class DemoCentre:
    slug: str
    name: str
    name_ar: str
    sectors: tuple[str, ...]
    organisations: tuple[str, ...]  # slugs named in its constituency
    contact_email: str


DEMO_CENTRES = (
    DemoCentre("sante", "Centre de veille — Santé", "مركز اليقظة — الصحة", ("health",),
               ("cnss",), "veille-sante@macert.gov.ma"),
    DemoCentre("finances", "Centre de veille — Finances", "مركز اليقظة — المالية", ("finance",),
               (), "veille-finances@macert.gov.ma"),
)  # fmt: skip

# (e-mail, centre slug, standing on-duty): the demo staff's centres; the users are DEMO_USERS
DEMO_MEMBERS = (
    ("coordinateur@macert.gov.ma", NATIONAL_SLUG, False),
    ("analyste@macert.gov.ma", NATIONAL_SLUG, True),
    ("analyste2@macert.gov.ma", NATIONAL_SLUG, False),
    ("chef.sante@macert.gov.ma", "sante", False),
    ("analyste.sante@macert.gov.ma", "sante", True),
    ("analyste2.sante@macert.gov.ma", "sante", False),
    ("chef.finances@macert.gov.ma", "finances", False),
    ("analyste.finances@macert.gov.ma", "finances", True),
)
CENTRE_OF = {email: slug for email, slug, _duty in DEMO_MEMBERS}


@dataclass
class CentresSeeded:
    centres: int = 0
    members: int = 0
    shifts: int = 0

    def summary(self, total: int) -> str:
        return (
            f"vigilance centres: {self.centres} created, {total} in all; {self.members} "
            f"member(s) added, {self.shifts} rota shift(s) added for the coming week"
        )


def ensure_centres(
    session: Session, actor: Actor, clock: Clock, seeded: CentresSeeded
) -> dict[str, Centre]:
    """The demo centres by slug (the national one too), created when absent (through the
    administrators' service: validated and audited like ``cert centres create``)."""
    found = {c.slug: c for c in session.scalars(select(Centre))}
    known = set(session.scalars(select(Organisation.slug)))
    for spec in DEMO_CENTRES:
        if spec.slug in found:
            continue
        found[spec.slug] = create_centre(
            session,
            actor,
            slug=spec.slug,
            name=spec.name,
            name_ar=spec.name_ar,
            sectors=spec.sectors,
            organisations=[slug for slug in spec.organisations if slug in known],
            contact_email=spec.contact_email,
            timezone=DEFAULT_TIMEZONE,
            working_hours=DEFAULT_WORKING_HOURS,
            clock=clock,
        )
        seeded.centres += 1
    session.flush()
    return found


def staff_centres(
    session: Session,
    actor: Actor,
    clock: Clock,
    centres: dict[str, Centre],
    seeded: CentresSeeded,
    new_users: frozenset[str] = frozenset(),
) -> None:
    """Each demo staff member in their centre, then the rotas. Standing duty as listed for a
    member added now or an account created by this run (``new_users``: ``create_user`` made it
    a member already); an existing member's duty is left as a lead set it."""
    staff: dict[str, list[User]] = {}
    for email, slug, duty in DEMO_MEMBERS:
        user, centre = accounts.find_user(session, email), centres.get(slug)
        if user is None or centre is None or not user.is_cert_staff:
            continue
        staff.setdefault(slug, []).append(user)
        member = session.scalar(
            select(CentreMember).where(
                CentreMember.centre_id == centre.id, CentreMember.user_id == user.id
            )
        )
        if member is None:
            add_member(session, actor, centre, user, on_duty=duty, clock=clock)
            seeded.members += 1
        elif email in new_users:
            set_on_duty(session, actor, centre, user, duty, clock=clock)
            seeded.members += 1
    session.flush()
    for slug, people in staff.items():
        seeded.shifts += _rota(session, actor, clock, centres[slug], people)
    session.flush()


def rota_shifts(
    people: list[User], timezone: str, now: dt.datetime
) -> list[tuple[User, dt.datetime, dt.datetime, str]]:
    """The coming week's shifts in ``timezone``, in UTC: from the out-of-hours shift covering
    this morning to the last day's, the day shifts alternating between the analysts, the
    out-of-hours ones with the lead (the first member when there is no lead)."""
    zone = ZoneInfo(timezone)
    analysts = [u for u in people if u.role == Role.ANALYST] or people
    lead = next((u for u in people if u.role == Role.LEAD), people[0])
    today = now.astimezone(zone).date()

    def at(day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)

    shifts = []
    for offset in range(-1, ROTA_DAYS):
        day = today + dt.timedelta(days=offset)
        if offset >= 0:
            analyst = analysts[day.toordinal() % len(analysts)]
            shifts.append((analyst, at(day, DAY_START), at(day, DAY_END), "journée"))
        after = at(day + dt.timedelta(days=1), DAY_START)
        shifts.append((lead, at(day, DAY_END), after, "astreinte"))
    return shifts


def _rota(session: Session, actor: Actor, clock: Clock, centre: Centre, people: list[User]) -> int:
    now = clock.now()
    wanted = rota_shifts(people, centre.timezone, now)
    have = set(
        session.execute(
            select(DutyShift.user_id, DutyShift.starts_at).where(
                DutyShift.centre_id == centre.id,
                DutyShift.starts_at >= wanted[0][1],
                DutyShift.starts_at <= wanted[-1][1],
            )
        ).all()
    )
    created = 0
    for user, start, end, note in wanted:
        if (user.id, start) in have or end <= now:
            continue
        add_shift(
            session, actor, centre, user, starts_at=start, ends_at=end, note=note, clock=clock
        )
        created += 1
    return created
