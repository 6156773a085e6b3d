"""Vigilance centres, read side (kernel, Flask-free): finding a centre, its members, who is on
duty. The centres themselves, the routing rule and the scope an actor carries are
:mod:`core.identity.centres`; managing them (create, members, rota; audited) is
:mod:`core.auth.centre_admin`.

Who is **on duty** for a centre at a moment (:func:`on_duty`):

1. the active members whose shift of the rota (:class:`~core.identity.centres.DutyShift`) covers
   it;
2. else the active members marked on duty (standing duty, ``cert centres add-member --on-duty``);
3. else nobody — escalation then goes to the centre's leads (:func:`leads_of`).

A centre's **constituency** as organisations (:func:`constituency_clause`,
:func:`constituency_organisations`; what a centre's distribution list reaches and a schedule
scoped to a centre runs for): the organisations it names, those of its sectors and those of its
regions — the national centre: every constituent. Never the CERT's own organisation
(``kind=cert``). A centre whose constituency is only RSIT classes names no organisation: its
constituency is empty (it takes incidents of its classes, but nothing is sent or run for
"every constituent" on its behalf).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.identity.centres import Centre, CentreMember, CentreOrganisation, DutyShift
from core.identity.models import Organisation, OrganisationKind, Role, User


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


def constituency_clause(centre: Centre) -> ColumnElement[bool]:
    """A ``WHERE`` clause on :class:`~core.identity.models.Organisation`: the organisations
    ``centre`` answers for (see the module), in SQL so that a caller filters in its own query."""
    constituent = Organisation.kind != OrganisationKind.CERT
    if centre.is_national:
        return constituent
    named = select(CentreOrganisation.organisation_id).where(
        CentreOrganisation.centre_id == centre.id
    )
    parts: list[ColumnElement[bool]] = [Organisation.id.in_(named)]
    if centre.sectors:
        parts.append(Organisation.sector.in_(list(centre.sectors)))
    if centre.regions:
        parts.append(Organisation.region.in_(list(centre.regions)))
    return and_(constituent, or_(false(), *parts))


def constituency_organisations(session: Session, centre: Centre) -> list[int]:
    """The ids of the organisations ``centre`` answers for (see the module), in id order."""
    query = select(Organisation.id).where(constituency_clause(centre)).order_by(Organisation.id)
    return list(session.scalars(query))
