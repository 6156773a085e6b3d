"""Vigilance centres, read side (kernel, Flask-free): finding a centre, its members, who is on
duty. The centres themselves, the routing rule and the scope an actor carries are
:mod:`core.identity.centres`; managing them (create, members, rota; audited) is
:mod:`core.auth.centre_admin`.

Who is **on duty** for a centre at a moment (:func:`on_duty`):

1. the active members whose shift of the rota (:class:`~core.identity.centres.DutyShift`) covers
   it;
2. else the active members marked on duty (standing duty, ``cert centres add-member --on-duty``);
3. else nobody — escalation then goes to the centre's leads (:func:`leads_of`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.identity.centres import Centre, CentreMember, DutyShift
from core.identity.models import Role, User


def list_centres(session: Session) -> list[Centre]:
    """Every centre: the national one first, then by slug."""
    return list(session.scalars(select(Centre).order_by(Centre.is_national.desc(), Centre.slug)))


def get_centre(session: Session, centre_id: int) -> Centre:
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise NotFound("no such centre")
    return centre


def get_centre_by_slug(session: Session, slug: str) -> Centre:
    """The centre with ``slug`` (case-insensitive), else ``NotFound`` naming it."""
    centre = session.scalar(select(Centre).where(Centre.slug == slug.strip().lower()))
    if centre is None:
        raise NotFound(f"no centre {slug.strip()[:64]!r}")
    return centre


def centres_of(session: Session, user_id: int) -> list[Centre]:
    """The centres ``user_id`` is a member of, by slug."""
    query = (
        select(Centre)
        .join(CentreMember, CentreMember.centre_id == Centre.id)
        .where(CentreMember.user_id == user_id)
        .order_by(Centre.slug)
    )
    return list(session.scalars(query))


def members_of(session: Session, centre: Centre) -> list[CentreMember]:
    """The centre's members (active or not), by name."""
    query = (
        select(CentreMember)
        .join(User, User.id == CentreMember.user_id)
        .where(CentreMember.centre_id == centre.id)
        .order_by(User.name, User.id)
    )
    return list(session.scalars(query))


def leads_of(session: Session, centre: Centre) -> list[User]:
    """The centre's active members with the lead role, by id."""
    query = (
        select(User)
        .join(CentreMember, CentreMember.user_id == User.id)
        .where(CentreMember.centre_id == centre.id, User.is_active, User.role == Role.LEAD)
        .order_by(User.id)
    )
    return list(session.scalars(query))


def shifts_at(session: Session, centre: Centre, at: dt.datetime) -> list[DutyShift]:
    """The centre's shifts that cover ``at`` (start included, end excluded)."""
    query = (
        select(DutyShift)
        .where(DutyShift.centre_id == centre.id, DutyShift.ends_at > at, DutyShift.starts_at <= at)
        .order_by(DutyShift.starts_at, DutyShift.id)
    )
    return list(session.scalars(query))


def on_duty(session: Session, centre: Centre, at: dt.datetime) -> list[User]:
    """Who is on duty for ``centre`` at ``at`` (see the module), active users only, once each."""
    members = {m.user_id for m in members_of(session, centre)}
    shifts = [
        s.user for s in shifts_at(session, centre, at) if s.user.is_active and s.user_id in members
    ]
    if shifts:
        return list({u.id: u for u in shifts}.values())
    query = (
        select(User)
        .join(CentreMember, CentreMember.user_id == User.id)
        .where(CentreMember.centre_id == centre.id, CentreMember.on_duty, User.is_active)
        .order_by(User.id)
    )
    return list(session.scalars(query))
