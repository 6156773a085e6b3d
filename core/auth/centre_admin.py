"""Managing vigilance centres (kernel, Flask-free; admins; every change audited): create a
centre, change its description and constituency. Its members, standing duty and rota are
:mod:`core.auth.centre_members`; ``cert centres …`` and the admin pages call both. Reading is
:mod:`core.auth.centres`; the configurations the routing rule cannot decide between are
:mod:`core.auth.centre_overlaps`.

The reasons of a ``ValidationFailed`` are English phrases marked for translation (``N_``) under
the field they are about, as in :mod:`core.auth.organisations`. The kernel does not know the
RSIT classes (the incidents slice does): adapters pass ``known_categories`` (the class ids) to
have a centre's classes checked.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth.organisations import bilingual_names
from core.auth.services import normalise_email
from core.clock import Clock
from core.errors import Conflict, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.centres import (
    DEFAULT_TIMEZONE,
    DEFAULT_WORKING_HOURS,
    Centre,
    CentreOrganisation,
)
from core.identity.models import Organisation, Role

_SLUG = re.compile(r"^[a-z0-9-]{2,64}$")
_HOUR = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
WORD_LENGTH = 64  # a sector, a region, a class id
MAX_WORDS = 50  # of each list of the constituency

BAD_SLUG = N_("lower-case letters, digits and dashes, 2 to 64 characters")
SLUG_TAKEN = N_("a centre with this identifier already exists")
BAD_TIMEZONE = N_("not a time zone, e.g. Africa/Casablanca")
BAD_WORD = N_("at most 50 entries of at most 64 characters each")
BAD_HOURS = N_("days 0 (Monday) to 6, and a start before the end, as HH:MM")
NATIONAL_CONSTITUENCY = N_("the national centre has every constituent: it has no constituency")


# ---------------------------------------------------------------- centres
@dataclass(frozen=True)
class Description:
    """A centre's description and constituency, checked (what create and update write)."""

    name: str
    name_ar: str | None
    contact_email: str | None
    timezone: str
    working_hours: dict[str, Any]
    sectors: list[str]
    regions: list[str]
    categories: list[str]
    organisations: list[Organisation]

    def columns(self) -> dict[str, Any]:
        """The centre's own columns it sets (all but the organisations), by name."""
        return {
            "name": self.name,
            "name_ar": self.name_ar,
            "contact_email": self.contact_email,
            "timezone": self.timezone,
            "working_hours": self.working_hours,
            "sectors": self.sectors,
            "regions": self.regions,
            "categories": self.categories,
        }

    def summary(self) -> dict[str, Any]:
        """What the audit log keeps of it."""
        return {**self.columns(), "organisations": sorted(o.slug for o in self.organisations)}


def valid_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone (``Africa/Casablanca``) this system knows."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _words(errors: dict[str, str], field: str, values: Iterable[str]) -> list[str]:
    words = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if len(words) > MAX_WORDS or any(len(w) > WORD_LENGTH for w in words):
        errors[field] = BAD_WORD
    return words


def _hours(errors: dict[str, str], hours: Mapping[str, Any] | None) -> dict[str, Any]:
    if hours is None:
        return dict(DEFAULT_WORKING_HOURS)
    days, start, end = hours.get("days"), hours.get("start"), hours.get("end")
    ok = (
        isinstance(days, list | tuple)
        and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days)
        and isinstance(start, str)
        and isinstance(end, str)
        and bool(_HOUR.match(start) and _HOUR.match(end))
        and start < end
    )
    if not ok:
        errors["working_hours"] = BAD_HOURS
        return dict(DEFAULT_WORKING_HOURS)
    return {"days": sorted(set(days or ())), "start": start, "end": end}


def _describe(
    session: Session,
    errors: dict[str, str],
    *,
    name: str,
    name_ar: str | None,
    contact_email: str | None,
    timezone: str,
    working_hours: Mapping[str, Any] | None,
    sectors: Iterable[str],
    organisations: Iterable[str],
    regions: Iterable[str],
    categories: Iterable[str],
    known_categories: Collection[str] | None,
) -> Description:
    """Check and normalise a centre's description into ``errors``; the values."""
    name, name_ar = bilingual_names(errors, name, name_ar)
    email = (contact_email or "").strip()
    if email:
        try:
            email = normalise_email(email)
        except ValidationFailed as exc:
            errors["contact_email"] = exc.fields["email"]
    timezone = timezone.strip()
    if not valid_timezone(timezone):
        errors["timezone"] = BAD_TIMEZONE
    classes = _words(errors, "categories", (c.lower() for c in categories))
    if known_categories is not None and "categories" not in errors:
        unknown = [c for c in classes if c not in known_categories]
        if unknown:
            errors["categories"] = N_("not an RSIT class: %(value)s", value=", ".join(unknown))
    return Description(
        name=name,
        name_ar=name_ar or None,
        contact_email=email or None,
        timezone=timezone,
        working_hours=_hours(errors, working_hours),
        sectors=_words(errors, "sectors", sectors),
        regions=_words(errors, "regions", regions),
        categories=classes,
        organisations=_organisations(session, errors, organisations),
    )


def _organisations(
    session: Session, errors: dict[str, str], slugs: Iterable[str]
) -> list[Organisation]:
    """The organisations of ``slugs`` (each must exist), by slug."""
    wanted = _words(errors, "organisations", (s.lower() for s in slugs))
    if not wanted or "organisations" in errors:
        return []
    query = select(Organisation).where(Organisation.slug.in_(wanted)).order_by(Organisation.slug)
    found = list(session.scalars(query))
    missing = sorted(set(wanted) - {o.slug for o in found})
    if missing:
        errors["organisations"] = N_("no organisation %(slug)s", slug=", ".join(missing))
    return found


def create_centre(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    name_ar: str | None = None,
    sectors: Iterable[str] = (),
    organisations: Iterable[str] = (),
    regions: Iterable[str] = (),
    categories: Iterable[str] = (),
    contact_email: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    working_hours: Mapping[str, Any] | None = None,
    known_categories: Collection[str] | None = None,
    clock: Clock,
) -> Centre:
    """A new (sectoral or regional) centre; ``organisations`` are organisation slugs. Every
    invalid field named at once, nothing written."""
    require(actor, Role.ADMIN, "creating a centre")
    errors: dict[str, str] = {}
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        errors["slug"] = BAD_SLUG
    values = _describe(
        session,
        errors,
        name=name,
        name_ar=name_ar,
        contact_email=contact_email,
        timezone=timezone,
        working_hours=working_hours,
        sectors=sectors,
        organisations=organisations,
        regions=regions,
        categories=categories,
        known_categories=known_categories,
    )
    if errors:
        raise ValidationFailed("invalid centre", fields=errors)
    taken = Conflict(f"a centre with slug {slug!r} already exists", fields={"slug": SLUG_TAKEN})
    if session.scalar(select(Centre.id).where(Centre.slug == slug)) is not None:
        raise taken
    now = clock.now()
    centre = Centre(
        slug=slug,
        is_national=False,
        **values.columns(),
        created_at=now,
        updated_at=now,
    )
    centre.organisations = [CentreOrganisation(organisation_id=o.id) for o in values.organisations]
    try:
        with session.begin_nested():  # the same slug created at the same moment elsewhere
            session.add(centre)
    except IntegrityError:
        raise taken from None
    audit.record(
        session,
        actor,
        AccountAction.CENTRE_CREATE,
        "centre",
        centre.id,
        clock=clock,
        after={"slug": slug, **values.summary()},
    )
    return centre


def _summary(centre: Centre, organisations: Iterable[str]) -> dict[str, Any]:
    return {
        "name": centre.name,
        "name_ar": centre.name_ar,
        "contact_email": centre.contact_email,
        "timezone": centre.timezone,
        "working_hours": dict(centre.working_hours or {}),
        "sectors": list(centre.sectors or ()),
        "regions": list(centre.regions or ()),
        "categories": list(centre.categories or ()),
        "organisations": sorted(organisations),
    }


def organisation_slugs(session: Session, centre: Centre) -> list[str]:
    """The slugs of the organisations named in ``centre``'s constituency, sorted."""
    query = (
        select(Organisation.slug)
        .join(CentreOrganisation, CentreOrganisation.organisation_id == Organisation.id)
        .where(CentreOrganisation.centre_id == centre.id)
        .order_by(Organisation.slug)
    )
    return list(session.scalars(query))


def update_centre(
    session: Session,
    actor: Actor,
    centre: Centre,
    *,
    name: str,
    name_ar: str | None,
    sectors: Iterable[str],
    organisations: Iterable[str],
    regions: Iterable[str],
    categories: Iterable[str],
    contact_email: str | None,
    timezone: str,
    working_hours: Mapping[str, Any] | None,
    known_categories: Collection[str] | None = None,
    clock: Clock,
) -> bool:
    """Change a centre's description and constituency (not its slug), audited with what
    changed; whether anything did. The national centre has every constituent: its names,
    contact, hours and time zone change, a constituency given for it is refused."""
    require(actor, Role.ADMIN, "changing a centre")
    errors: dict[str, str] = {}
    values = _describe(
        session,
        errors,
        name=name,
        name_ar=name_ar,
        contact_email=contact_email,
        timezone=timezone,
        working_hours=working_hours,
        sectors=sectors,
        organisations=organisations,
        regions=regions,
        categories=categories,
        known_categories=known_categories,
    )
    if centre.is_national:
        for field in ("sectors", "regions", "categories", "organisations"):
            if getattr(values, field):
                errors[field] = NATIONAL_CONSTITUENCY
    if errors:
        raise ValidationFailed("invalid centre", fields=errors)
    old = _summary(centre, organisation_slugs(session, centre))
    new = values.summary()
    changed = [key for key in old if old[key] != new[key]]
    if not changed:
        return False
    for key in changed:
        if key == "organisations":
            wanted = {o.id: o for o in values.organisations}
            kept = [link for link in centre.organisations if link.organisation_id in wanted]
            present = {link.organisation_id for link in kept}
            kept += [CentreOrganisation(organisation_id=i) for i in wanted if i not in present]
            centre.organisations = kept
        else:
            setattr(centre, key, new[key])
    centre.updated_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.CENTRE_UPDATE,
        "centre",
        centre.id,
        clock=clock,
        before={key: old[key] for key in changed},
        after={key: new[key] for key in changed},
    )
    return True
