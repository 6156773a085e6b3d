"""Vigilance centres (kernel: Flask-free): the national CERT's teams, each answering for part of
the administration — a sectoral SOC (health, finance, energy…) or a regional one — coordinated by
the national coordination centre, which exists by default (migration 0037) and has every
constituent.

* :class:`Centre`: slug, French and Arabic names, its **constituency** — organisations, sectors
  and regions it answers for, and optionally the RSIT classes it specialises in — contact
  address, working hours and time zone.
* :class:`CentreMember`: an analyst or lead of the CERT in a centre; ``on_duty`` marks the
  standing on-duty member(s) when no shift of the rota covers the moment.
* :class:`DutyShift`: one entry of the centre's rota (who is on duty from when to when; stored in
  UTC, entered and shown in the centre's time zone).

:func:`scope_of` is what an :class:`~core.identity.authz.Actor` carries: the centres whose
incidents a CERT user works (``None``: every centre — leads, admins and members of the national
centre). :func:`route` is the routing rule (most specific wins, the national centre last).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.db import Base
from core.identity.models import Role, User

NATIONAL_SLUG = "national"
DEFAULT_TIMEZONE = "Africa/Casablanca"
# Monday (0) to Friday (4), 08:30–16:30: the administration's hours
DEFAULT_WORKING_HOURS: dict[str, Any] = {"days": [0, 1, 2, 3, 4], "start": "08:30", "end": "16:30"}


class Centre(Base):
    """A vigilance centre. Exactly one has ``is_national`` (the national coordination centre)."""

    __tablename__ = "centres"
    __table_args__ = (
        Index(
            "ix_centres_one_national",
            "is_national",
            unique=True,
            sqlite_where=text("is_national"),
            postgresql_where=text("is_national"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # French (official)
    name_ar: Mapped[str | None] = mapped_column(String(200))
    is_national: Mapped[bool] = mapped_column(default=False)
    # constituency: organisation slugs are rows of centre_organisations (below)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # RSIT class ids
    contact_email: Mapped[str | None] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    # {"days": [0..6] (Monday 0), "start": "HH:MM", "end": "HH:MM"} in the centre's time zone
    working_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    organisations: Mapped[list[CentreOrganisation]] = relationship(
        back_populates="centre", cascade="all, delete-orphan", order_by="CentreOrganisation.id"
    )
    members: Mapped[list[CentreMember]] = relationship(
        back_populates="centre", cascade="all, delete-orphan", order_by="CentreMember.id"
    )

    def display_name(self, locale: str) -> str:
        """The Arabic name in Arabic when there is one, else the French name."""
        return self.name_ar if locale == "ar" and self.name_ar else self.name

    def __repr__(self) -> str:
        return f"<Centre {self.slug}>"


class CentreOrganisation(Base):
    """An organisation named in a centre's constituency (the most specific routing rule)."""

    __tablename__ = "centre_organisations"
    __table_args__ = (UniqueConstraint("centre_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )

    centre: Mapped[Centre] = relationship(back_populates="organisations")


class CentreMember(Base):
    """A CERT user (analyst, lead, admin) in a centre."""

    __tablename__ = "centre_members"
    __table_args__ = (UniqueConstraint("centre_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    on_duty: Mapped[bool] = mapped_column(default=False)  # standing duty (no shift covers now)
    added_at: Mapped[dt.datetime]

    centre: Mapped[Centre] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class DutyShift(Base):
    """Who is on duty for a centre from ``starts_at`` to ``ends_at`` (UTC, end excluded)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("ix_duty_shifts_centre_period", "centre_id", "ends_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]

    user: Mapped[User] = relationship(lazy="joined")


# --- scope --------------------------------------------------------------------------------------


def sees_every_centre(role: Role | None) -> bool:
    """Leads and admins see every centre's incidents whatever their membership."""
    return role in {Role.LEAD, Role.ADMIN}


def scope_of(session: Session | None, user: User) -> frozenset[int] | None:
    """The centres whose incidents ``user`` works: ``None`` for every centre (leads, admins,
    members of the national centre), else the ids of the centres they are a member of (empty
    for a reporter, an analyst in no centre, or an analyst outside any session: fails closed)."""
    if session is None:
        return None if sees_every_centre(user.role) else frozenset()
    return scopes_of(session, [user])[user.id]


def scopes_of(session: Session, users: Sequence[User]) -> dict[int, frozenset[int] | None]:
    """:func:`scope_of` for many users in one query."""
    result: dict[int, frozenset[int] | None] = {}
    ask = [u.id for u in users if u.is_cert_staff and not sees_every_centre(u.role)]
    for user in users:
        result[user.id] = None if sees_every_centre(user.role) else frozenset()
    if not ask:
        return result
    rows = session.execute(
        select(CentreMember.user_id, Centre.id, Centre.is_national)
        .join(Centre, Centre.id == CentreMember.centre_id)
        .where(CentreMember.user_id.in_(ask))
    )
    national: set[int] = set()
    found: dict[int, set[int]] = {}
    for user_id, centre_id, is_national in rows:
        found.setdefault(user_id, set()).add(centre_id)
        if is_national:
            national.add(user_id)
    for user_id in ask:
        result[user_id] = None if user_id in national else frozenset(found.get(user_id, ()))
    return result


def national_centre(session: Session) -> Centre:
    """The national coordination centre (created by migration 0037, never deleted)."""
    return session.scalars(select(Centre).where(Centre.is_national)).one()


def national_id() -> Any:
    """The national centre's id as an SQL scalar subquery (a column default)."""
    return select(Centre.id).where(Centre.is_national).scalar_subquery()


# --- routing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constituency:
    """What the routing rule reads of a centre (loaded once, see :func:`constituencies`)."""

    centre_id: int
    slug: str
    is_national: bool
    organisations: frozenset[int]
    sectors: frozenset[str]
    regions: frozenset[str]
    categories: frozenset[str]


# how specific a match of the centre's constituency is
_ORGANISATION, _SECTOR, _REGION, _ANYONE = 3, 2, 1, 0


def _specificity(
    centre: Constituency,
    organisation_id: int,
    sector: str | None,
    region: str | None,
    category: str | None,
) -> tuple[int, int] | None:
    """(constituency level, class level) of a match, or ``None`` when the centre does not take
    the incident. A centre with classes takes only incidents of those classes; a centre with
    classes and no constituency takes them from every constituent."""
    if centre.categories and category not in centre.categories:
        return None
    if organisation_id in centre.organisations:
        level = _ORGANISATION
    elif sector is not None and sector in centre.sectors:
        level = _SECTOR
    elif region is not None and region in centre.regions:
        level = _REGION
    elif not (centre.organisations or centre.sectors or centre.regions) and centre.categories:
        level = _ANYONE
    else:
        return None
    return level, 1 if centre.categories else 0


def route(
    centres: Iterable[Constituency],
    *,
    organisation_id: int,
    sector: str | None,
    region: str | None,
    category: str | None,
) -> int:
    """The centre an incident arrives in (pure rule, README "Vigilance centres"):

    1. a centre naming the organisation, then one naming its sector, then its region — a centre
       specialised in the incident's RSIT class before one that is not, at the same level;
    2. a centre specialised in the class with no constituency of its own;
    3. the national coordination centre last.

    Two centres equally specific: the lower slug (alphabetical order) — a configuration the
    centres page warns about."""
    best: tuple[tuple[int, int], str, int] | None = None
    national: int | None = None
    for centre in centres:
        if centre.is_national:
            national = centre.centre_id
            continue
        level = _specificity(centre, organisation_id, sector, region, category)
        if level is None:
            continue
        key = (level, centre.slug, centre.centre_id)
        if best is None or level > best[0] or (level == best[0] and centre.slug < best[1]):
            best = key
    if best is not None:
        return best[2]
    if national is None:
        raise LookupError("no national centre")
    return national


def constituencies(session: Session) -> list[Constituency]:
    """Every centre's constituency, in two queries (the routing rule's input)."""
    named: dict[int, set[int]] = {}
    for centre_id, organisation_id in session.execute(
        select(CentreOrganisation.centre_id, CentreOrganisation.organisation_id)
    ):
        named.setdefault(centre_id, set()).add(organisation_id)
    return [
        Constituency(
            centre_id=c.id,
            slug=c.slug,
            is_national=c.is_national,
            organisations=frozenset(named.get(c.id, ())),
            sectors=frozenset(c.sectors or ()),
            regions=frozenset(c.regions or ()),
            categories=frozenset(c.categories or ()),
        )
        for c in session.scalars(select(Centre).order_by(Centre.slug))
    ]
