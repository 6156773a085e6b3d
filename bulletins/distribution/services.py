"""Distribution lists and their members (Flask-free use cases, audited).

* :func:`create_list` / :func:`update_list` / :func:`delete_list`: leads (and admins). Kinds:
  *organisation* (needs an existing organisation), *sector* (a sector some organisation has),
  *all* (every constituent administration), *centre* (a vigilance centre's constituency: needs
  an existing centre, by slug), *named* (individuals chosen by name);
* :func:`add_member` / :func:`remove_member`: the named individuals of a named list, or the
  extra addresses of an organisation's list — leads, and an account of the organisation itself
  on its **own** organisation's list (self-service), nothing else;
* every refusal names its field; an address already on the list is refused, not doubled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.audience import LANGUAGES
from bulletins.audit import ListAction
from bulletins.distribution.addresses import BAD_EMAIL as BAD_EMAIL
from bulletins.distribution.addresses import EMAIL_TAKEN as EMAIL_TAKEN
from bulletins.distribution.addresses import OUTSIDE_DOMAINS as OUTSIDE_DOMAINS
from bulletins.distribution.addresses import member_address, normalised_email
from bulletins.models import DigestFrequency, DistributionList, ListKind, ListMember
from core import audit
from core.auth.centres import list_centres
from core.clock import Clock
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, at_least
from core.identity.centres import Centre
from core.identity.models import (
    Organisation,
    OrganisationKind,
    Role,
)

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_NAME = 200
_E = TypeVar("_E", ListKind, DigestFrequency)

BAD_SLUG = N_("lower-case letters, digits and dashes, 1 to 64 characters")
SLUG_TAKEN = N_("a distribution list with this identifier already exists")
BAD_NAME = N_("1 to 200 characters")
BAD_KIND = N_("one of organisation, sector, all, centre, named")
BAD_DIGEST = N_("one of none, daily, weekly")
BAD_LANGUAGE = N_("one of fr, en, ar")
NO_ORGANISATION = N_("no such organisation")
ORGANISATION_REQUIRED = N_("an organisation list needs its organisation")
NO_SECTOR = N_("no organisation is of this sector")
SECTOR_REQUIRED = N_("a sector list needs its sector")
NO_CENTRE = N_("no such centre")
CENTRE_REQUIRED = N_("a centre list needs its centre")
NOT_A_MEMBER = N_("this address is not on the list")
NO_MEMBERS = N_("only named lists and organisation lists have members")


@dataclass(frozen=True)
class ListRow:
    """A list in an overview, with how many members it has (one query for every list)."""

    list: DistributionList
    members: int


def is_lead(actor: Actor) -> bool:
    return at_least(actor, Role.LEAD)


def can_manage_members(actor: Actor, dlist: DistributionList) -> bool:
    """Leads manage every list's members; an account of an organisation, the extra addresses of
    its own organisation's list."""
    if is_lead(actor):
        return True
    return (
        not actor.is_cert_staff
        and actor.organisation_id is not None
        and dlist.kind == ListKind.ORGANISATION
        and dlist.organisation_id == actor.organisation_id
    )


def _require_lead(actor: Actor, what: str) -> None:
    if not is_lead(actor):
        raise PermissionDenied(f"{what} is for leads")


# ---------------------------------------------------------------- reading
def get_list(session: Session, slug: str) -> DistributionList:
    found = session.scalar(select(DistributionList).where(DistributionList.slug == slug))
    if found is None:
        raise NotFound(f"no distribution list {slug}")
    return found


def list_lists(session: Session, *, limit: int = 500, offset: int = 0) -> list[ListRow]:
    counts = (
        select(ListMember.list_id, func.count().label("n")).group_by(ListMember.list_id).subquery()
    )
    rows = session.execute(
        select(DistributionList, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.list_id == DistributionList.id)
        .order_by(DistributionList.slug)
        .limit(limit)
        .offset(offset)
    )
    return [ListRow(dlist, int(n)) for dlist, n in rows]


def count_lists(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DistributionList)) or 0)


def own_lists(session: Session, actor: Actor) -> list[DistributionList]:
    """The organisation lists whose extra addresses ``actor`` manages itself."""
    if actor.organisation_id is None or actor.is_cert_staff:
        return []
    return list(
        session.scalars(
            select(DistributionList)
            .where(
                DistributionList.kind == ListKind.ORGANISATION,
                DistributionList.organisation_id == actor.organisation_id,
            )
            .order_by(DistributionList.slug)
        )
    )


def sectors(session: Session) -> list[str]:
    """The sectors of the constituency (those some organisation has)."""
    return list(
        session.scalars(
            select(Organisation.sector)
            .where(Organisation.sector.is_not(None), Organisation.kind != OrganisationKind.CERT)
            .distinct()
            .order_by(Organisation.sector)
        )
    )


def centre_choices(session: Session, language: str) -> list[tuple[str, str]]:
    """The centres a list may cover: (slug, name in ``language``), the national one first."""
    return [(c.slug, c.display_name(language)) for c in list_centres(session)]


def centre_names(session: Session, ids: Iterable[int | None], language: str) -> dict[int, str]:
    """The names of the centres ``ids`` (in Arabic for ``ar`` when they have one)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = session.scalars(select(Centre).where(Centre.id.in_(wanted)))
    return {c.id: c.display_name(language) for c in found}


def centre_slugs(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The slugs of the centres ``ids``."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Centre.id, Centre.slug).where(Centre.id.in_(wanted)))
    return dict(rows.all())


def organisation_names(
    session: Session, ids: Iterable[int | None], language: str
) -> dict[int, str]:
    """The names of the organisations ``ids`` (in Arabic for ``ar`` when they have one)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.name_ar).where(
            Organisation.id.in_(wanted)
        )
    )
    return {i: (name_ar if language == "ar" and name_ar else name) for i, name, name_ar in rows}


# ---------------------------------------------------------------- lists
def create_list(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    kind: str,
    organisation: str | None = None,
    sector: str | None = None,
    centre: str | None = None,
    digest: str = "none",
    language: str = "fr",
    clock: Clock,
) -> DistributionList:
    _require_lead(actor, "managing distribution lists")
    problems: dict[str, str] = {}
    slug = slug.strip()
    if not SLUG.match(slug):
        problems["slug"] = BAD_SLUG
    elif session.scalar(select(DistributionList.id).where(DistributionList.slug == slug)):
        problems["slug"] = SLUG_TAKEN
    parsed_kind = _choice(ListKind, kind, "kind", BAD_KIND, problems)
    settings = _settings(name, digest, language, problems)
    organisation_id, sector_value, centre_id = None, None, None
    if parsed_kind == ListKind.ORGANISATION:
        organisation_id = _organisation_id(session, organisation, "organisation", problems,
                                           required=ORGANISATION_REQUIRED)  # fmt: skip
    elif parsed_kind == ListKind.SECTOR:
        sector_value = (sector or "").strip()
        if not sector_value:
            problems["sector"] = SECTOR_REQUIRED
        elif sector_value not in sectors(session):
            problems["sector"] = NO_SECTOR
    elif parsed_kind == ListKind.CENTRE:
        centre_id = _centre_id(session, centre, problems)
    if problems or parsed_kind is None:
        raise ValidationFailed("invalid distribution list", fields=problems)
    now = clock.now()
    dlist = DistributionList(slug=slug, name=settings[0], kind=parsed_kind,
                             organisation_id=organisation_id, sector=sector_value,
                             centre_id=centre_id, digest=settings[1], language=settings[2],
                             created_at=now, updated_at=now,
                             created_by_id=actor.user_id)  # fmt: skip
    session.add(dlist)
    session.flush()
    audit.record(session, actor, ListAction.CREATE, "distribution_list", slug, clock=clock,
                 after={"kind": parsed_kind.value, "organisation": organisation,
                        "sector": sector_value, "digest": settings[1].value}
                 | ({"centre": (centre or "").strip().lower()} if centre_id else {}))  # fmt: skip
    return dlist


def update_list(
    session: Session,
    actor: Actor,
    dlist: DistributionList,
    *,
    name: str,
    digest: str,
    language: str,
    clock: Clock,
) -> DistributionList:
    """Change a list's name, digest frequency and default language (its kind and what it
    covers stay: delete it and create another)."""
    _require_lead(actor, "managing distribution lists")
    problems: dict[str, str] = {}
    settings = _settings(name, digest, language, problems)
    if problems:
        raise ValidationFailed("invalid distribution list", fields=problems)
    before = {"name": dlist.name, "digest": dlist.digest.value, "language": dlist.language}
    dlist.name, dlist.digest, dlist.language = settings
    dlist.updated_at = clock.now()
    session.flush()
    audit.record(session, actor, ListAction.UPDATE, "distribution_list", dlist.slug, clock=clock,
                 before=before, after={"name": dlist.name, "digest": dlist.digest.value,
                                       "language": dlist.language})  # fmt: skip
    return dlist


def delete_list(session: Session, actor: Actor, dlist: DistributionList, *, clock: Clock) -> None:
    _require_lead(actor, "managing distribution lists")
    audit.record(session, actor, ListAction.DELETE, "distribution_list", dlist.slug, clock=clock,
                 before={"kind": dlist.kind.value, "name": dlist.name})  # fmt: skip
    session.delete(dlist)
    session.flush()


# ---------------------------------------------------------------- members
def add_member(
    session: Session,
    actor: Actor,
    dlist: DistributionList,
    *,
    email: str,
    name: str = "",
    language: str | None = None,
    organisation: str | None = None,
    clock: Clock,
) -> ListMember:
    if not can_manage_members(actor, dlist):
        raise PermissionDenied("the members of this list are managed by leads")
    problems: dict[str, str] = {}
    if dlist.kind not in (ListKind.NAMED, ListKind.ORGANISATION):
        raise ValidationFailed("no members", fields={"email": NO_MEMBERS})
    address = member_address(session, dlist, email, problems, lead=is_lead(actor))
    name = name.strip()
    if len(name) > MAX_NAME:
        problems["name"] = BAD_NAME
    language = (language or "").strip() or None
    if language is not None and language not in LANGUAGES:
        problems["language"] = BAD_LANGUAGE
    organisation_id = None
    if not is_lead(actor) or dlist.kind == ListKind.ORGANISATION:
        organisation = None  # an organisation's extra addresses are of that organisation
    elif (organisation or "").strip():
        organisation_id = _organisation_id(session, organisation, "organisation", problems)
    if problems or address is None:
        raise ValidationFailed("invalid list member", fields=problems)
    member = ListMember(list_id=dlist.id, email=address, name=name, language=language,
                       organisation_id=organisation_id, added_by_id=actor.user_id,
                       created_at=clock.now())  # fmt: skip
    session.add(member)
    session.flush()
    audit.record(session, actor, ListAction.MEMBER_ADD, "distribution_list", dlist.slug,
                 clock=clock, after={"email": address, "organisation": organisation})  # fmt: skip
    return member


def remove_member(
    session: Session, actor: Actor, dlist: DistributionList, email: str, *, clock: Clock
) -> None:
    if not can_manage_members(actor, dlist):
        raise PermissionDenied("the members of this list are managed by leads")
    address = normalised_email(email) or email.strip().lower()
    member = session.scalar(
        select(ListMember).where(ListMember.list_id == dlist.id, ListMember.email == address)
    )
    if member is None:
        raise ValidationFailed("not a member", fields={"email": NOT_A_MEMBER})
    session.delete(member)
    session.flush()
    audit.record(session, actor, ListAction.MEMBER_REMOVE, "distribution_list", dlist.slug,
                 clock=clock, before={"email": address})  # fmt: skip


# ---------------------------------------------------------------- checks
def _choice(
    kind: type[_E], raw: str, field: str, message: str, problems: dict[str, str]
) -> _E | None:
    try:
        return kind(raw.strip().lower())
    except ValueError:
        problems[field] = message
        return None


def _settings(
    name: str, digest: str, language: str, problems: dict[str, str]
) -> tuple[str, DigestFrequency, str]:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        problems["name"] = BAD_NAME
    frequency = _choice(DigestFrequency, digest, "digest", BAD_DIGEST, problems)
    language = language.strip().lower()
    if language not in LANGUAGES:
        problems["language"] = BAD_LANGUAGE
    return name, frequency or DigestFrequency.NONE, language


def _organisation_id(
    session: Session,
    slug: str | None,
    field: str,
    problems: dict[str, str],
    *,
    required: str | None = None,
) -> int | None:
    slug = (slug or "").strip()
    if not slug:
        if required:
            problems[field] = required
        return None
    found = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
    if found is None:
        problems[field] = NO_ORGANISATION
    return found


def _centre_id(session: Session, slug: str | None, problems: dict[str, str]) -> int | None:
    slug = (slug or "").strip().lower()
    if not slug:
        problems["centre"] = CENTRE_REQUIRED
        return None
    found = session.scalar(select(Centre.id).where(Centre.slug == slug))
    if found is None:
        problems["centre"] = NO_CENTRE
    return found
