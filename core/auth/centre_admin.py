"""Managing vigilance centres (kernel, Flask-free; admins; every change audited): create and
update a centre and its constituency, add and remove members, standing duty, the rota's
shifts. ``cert centres …`` and the admin pages call these. Reading is
:mod:`core.auth.centres`; the configurations the routing rule cannot decide between are
:mod:`core.auth.centre_overlaps`.

The reasons of a ``ValidationFailed`` are English phrases marked for translation (``N_``) under
the field they are about, as in :mod:`core.auth.organisations`. The kernel does not know the
RSIT classes (the incidents slice does): adapters pass ``known_categories`` (the class ids) to
have a centre's classes checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth.services import NAME_LENGTH, REQUIRED, TOO_LONG, normalise_email
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.centres import (
    DEFAULT_TIMEZONE,
    DEFAULT_WORKING_HOURS,
    Centre,
    CentreMember,
    CentreOrganisation,
    DutyShift,
)
from core.identity.models import Organisation, Role, User

_SLUG = re.compile(r"^[a-z0-9-]{2,64}$")
_HOUR = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
WORD_LENGTH = 64  # a sector, a region, a class id
MAX_WORDS = 50  # of each list of the constituency
NOTE_LENGTH = 200
LONGEST_SHIFT = dt.timedelta(days=31)

BAD_SLUG = N_("lower-case letters, digits and dashes, 2 to 64 characters")
SLUG_TAKEN = N_("a centre with this identifier already exists")
BAD_TIMEZONE = N_("not a time zone, e.g. Africa/Casablanca")
BAD_WORD = N_("at most 50 entries of at most 64 characters each")
BAD_HOURS = N_("days 0 (Monday) to 6, and a start before the end, as HH:MM")
NATIONAL_CONSTITUENCY = N_("the national centre has every constituent: it has no constituency")
NOT_STAFF = N_("only active analysts, coordinators and administrators join a centre")
ALREADY_MEMBER = N_("already a member of this centre")
NOT_MEMBER = N_("not a member of this centre")
END_BEFORE_START = N_("the end comes after the start")
TOO_LONG_SHIFT = N_("a shift lasts at most 31 days")
SHIFT_OVER = N_("this moment is past already")
SHIFT_OVERLAP = N_("overlaps another shift of this member")


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

    def summary(self) -> dict[str, Any]:
        """What the audit log keeps of it."""
        return {
            "name": self.name,
            "name_ar": self.name_ar,
            "contact_email": self.contact_email,
            "timezone": self.timezone,
            "working_hours": self.working_hours,
            "sectors": self.sectors,
            "regions": self.regions,
            "categories": self.categories,
            "organisations": sorted(o.slug for o in self.organisations),
        }


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
    name, name_ar = name.strip(), (name_ar or "").strip()
    if not name:
        errors["name"] = REQUIRED
    elif len(name) > NAME_LENGTH:
        errors["name"] = TOO_LONG
    if len(name_ar) > NAME_LENGTH:
        errors["name_ar"] = TOO_LONG
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
        name=values.name,
        name_ar=values.name_ar,
        contact_email=values.contact_email,
        timezone=values.timezone,
        working_hours=values.working_hours,
        sectors=values.sectors,
        regions=values.regions,
        categories=values.categories,
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


# ---------------------------------------------------------------- members
def membership(session: Session, centre: Centre, user: User) -> CentreMember | None:
    query = select(CentreMember).where(
        CentreMember.centre_id == centre.id, CentreMember.user_id == user.id
    )
    return session.scalar(query)


def add_member(
    session: Session,
    actor: Actor,
    centre: Centre,
    user: User,
    *,
    on_duty: bool = False,
    clock: Clock,
) -> CentreMember:
    """Make an active CERT user (analyst, lead, administrator) a member of ``centre``; on
    standing duty when ``on_duty``. A reporter or an inactive account is refused (``user``),
    a member already is a ``Conflict``."""
    require(actor, Role.ADMIN, "adding a member to a centre")
    if not (user.is_active and user.is_cert_staff):
        raise ValidationFailed(f"{user.email} cannot join a centre", fields={"user": NOT_STAFF})
    taken = Conflict(
        f"{user.email} is already a member of {centre.slug}", fields={"user": ALREADY_MEMBER}
    )
    if membership(session, centre, user) is not None:
        raise taken
    member = CentreMember(
        centre_id=centre.id, user_id=user.id, on_duty=on_duty, added_at=clock.now()
    )
    try:
        with session.begin_nested():
            session.add(member)
    except IntegrityError:
        raise taken from None
    audit.record(
        session,
        actor,
        AccountAction.CENTRE_MEMBER_ADD,
        "centre",
        centre.id,
        clock=clock,
        after={"user": user.email, "on_duty": on_duty},
    )
    return member


def remove_member(
    session: Session, actor: Actor, centre: Centre, user: User, *, clock: Clock
) -> int:
    """Take ``user`` out of ``centre``; their shifts of its rota still to come go with them
    (how many). ``NotFound`` when they are no member."""
    require(actor, Role.ADMIN, "removing a member from a centre")
    member = membership(session, centre, user)
    if member is None:
        raise NotFound(
            f"{user.email} is not a member of {centre.slug}", fields={"user": NOT_MEMBER}
        )
    session.delete(member)
    dropped = session.execute(
        delete(DutyShift).where(
            DutyShift.centre_id == centre.id,
            DutyShift.user_id == user.id,
            DutyShift.ends_at > clock.now(),
        )
    )
    session.flush()
    shifts = int(getattr(dropped, "rowcount", 0) or 0)
    audit.record(
        session,
        actor,
        AccountAction.CENTRE_MEMBER_REMOVE,
        "centre",
        centre.id,
        clock=clock,
        before={"user": user.email, "on_duty": member.on_duty},
        after={"shifts_removed": shifts},
    )
    return shifts


def set_on_duty(
    session: Session, actor: Actor, centre: Centre, user: User, on_duty: bool, *, clock: Clock
) -> bool:
    """Mark a member on standing duty, or not (leads may too); whether it changed."""
    require(actor, Role.LEAD, "changing who is on duty")
    member = membership(session, centre, user)
    if member is None:
        raise NotFound(
            f"{user.email} is not a member of {centre.slug}", fields={"user": NOT_MEMBER}
        )
    if member.on_duty == on_duty:
        return False
    member.on_duty = on_duty
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.CENTRE_DUTY,
        "centre",
        centre.id,
        clock=clock,
        before={"user": user.email, "on_duty": not on_duty},
        after={"user": user.email, "on_duty": on_duty},
    )
    return True


# ---------------------------------------------------------------- rota
def local_to_utc(centre: Centre, moment: dt.datetime) -> dt.datetime:
    """A wall-clock time of the centre's time zone (naive) as an aware UTC datetime."""
    return moment.replace(tzinfo=ZoneInfo(centre.timezone)).astimezone(dt.UTC)


def utc_to_local(centre: Centre, moment: dt.datetime) -> dt.datetime:
    """An aware datetime in the centre's time zone."""
    return moment.astimezone(ZoneInfo(centre.timezone))


def add_shift(
    session: Session,
    actor: Actor,
    centre: Centre,
    user: User,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    note: str | None = None,
    clock: Clock,
) -> DutyShift:
    """Put a member on the centre's rota from ``starts_at`` to ``ends_at`` (aware datetimes,
    stored in UTC; adapters read them in the centre's time zone, :func:`local_to_utc`). At
    most 31 days, not over already, not overlapping another shift of the same member here."""
    require(actor, Role.ADMIN, "adding a shift to a centre's rota")
    errors: dict[str, str] = {}
    note = " ".join((note or "").split())
    if membership(session, centre, user) is None:
        errors["user"] = NOT_MEMBER
    elif not (user.is_active and user.is_cert_staff):
        errors["user"] = NOT_STAFF
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("shifts are aware datetimes")
    starts_at, ends_at = starts_at.astimezone(dt.UTC), ends_at.astimezone(dt.UTC)
    period = _period_error(starts_at, ends_at, clock.now())
    if period is not None:
        errors["ends_at"] = period
    if len(note) > NOTE_LENGTH:
        errors["note"] = TOO_LONG
    if not errors:
        overlap = select(DutyShift.id).where(
            DutyShift.centre_id == centre.id,
            DutyShift.user_id == user.id,
            DutyShift.starts_at < ends_at,
            DutyShift.ends_at > starts_at,
        )
        if session.scalar(overlap.limit(1)) is not None:
            errors["starts_at"] = SHIFT_OVERLAP
    if errors:
        raise ValidationFailed("invalid shift", fields=errors)
    shift = DutyShift(
        centre_id=centre.id,
        user_id=user.id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note or None,
        created_at=clock.now(),
    )
    session.add(shift)
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.CENTRE_SHIFT_ADD,
        "centre",
        centre.id,
        clock=clock,
        after=_shift_summary(shift, user),
    )
    return shift


def _period_error(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> str | None:
    if ends_at <= starts_at:
        return END_BEFORE_START
    if ends_at - starts_at > LONGEST_SHIFT:
        return TOO_LONG_SHIFT
    if ends_at <= now:
        return SHIFT_OVER
    return None


def _shift_summary(shift: DutyShift, user: User) -> dict[str, Any]:
    return {
        "shift": shift.id,
        "user": user.email,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "note": shift.note,
    }


def get_shift(session: Session, shift_id: int, centre: Centre | None = None) -> DutyShift:
    """The shift ``shift_id`` (of ``centre`` when given), else ``NotFound``."""
    shift = session.get(DutyShift, shift_id)
    if shift is None or (centre is not None and shift.centre_id != centre.id):
        raise NotFound("no such shift", fields={"id": N_("no such shift")})
    return shift


def remove_shift(session: Session, actor: Actor, shift: DutyShift, *, clock: Clock) -> None:
    """Take a shift off its centre's rota (audited)."""
    require(actor, Role.ADMIN, "removing a shift from a centre's rota")
    summary = _shift_summary(shift, shift.user)
    session.delete(shift)
    session.flush()
    audit.record(
        session,
        actor,
        AccountAction.CENTRE_SHIFT_REMOVE,
        "centre",
        shift.centre_id,
        clock=clock,
        before=summary,
    )


def upcoming_shifts(
    session: Session, centre: Centre, *, since: dt.datetime, until: dt.datetime, limit: int = 200
) -> list[DutyShift]:
    """The centre's shifts not over at ``since`` and starting before ``until``, by start."""
    query = (
        select(DutyShift)
        .where(
            DutyShift.centre_id == centre.id,
            DutyShift.ends_at > since,
            DutyShift.starts_at < until,
        )
        .order_by(DutyShift.starts_at, DutyShift.id)
        .limit(limit)
    )
    return list(session.scalars(query))
