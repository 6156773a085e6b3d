"""A vigilance centre's people (kernel, Flask-free; admins, leads for duty; every change
audited): members (active CERT staff), the standing on-duty flag, the rota's shifts (stored in
UTC, entered and shown in the centre's time zone: :func:`local_to_utc`, :func:`utc_to_local`),
and the board the centres pages and ``cert centres list`` show (:func:`board`: members and who
is on duty now for every centre, in a few queries). The centres themselves are
:mod:`core.auth.centre_admin`; who is on duty for one centre, :func:`core.auth.centres.on_duty`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.audit import AccountAction
from core.auth.services import TOO_LONG
from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, require
from core.identity.centres import Centre, CentreMember, CentreOrganisation, DutyShift
from core.identity.models import Organisation, Role, User

NOTE_LENGTH = 200
LONGEST_SHIFT = dt.timedelta(days=31)
NOT_STAFF = N_("only active analysts, coordinators and administrators join a centre")
ALREADY_MEMBER = N_("already a member of this centre")
NOT_MEMBER = N_("not a member of this centre")
END_BEFORE_START = N_("the end comes after the start")
TOO_LONG_SHIFT = N_("a shift lasts at most 31 days")
SHIFT_OVER = N_("this moment is past already")
SHIFT_OVERLAP = N_("overlaps another shift of this member")


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


# ---------------------------------------------------------------- board
@dataclass(frozen=True)
class Board:
    """Every centre's active members (how many), who is on duty at a moment (the rule of
    :func:`core.auth.centres.on_duty`) and the organisations of its constituency (slugs)."""

    members: dict[int, int]
    on_duty: dict[int, list[User]]
    organisations: dict[int, list[str]]


def board(session: Session, centres: Sequence[Centre], at: dt.datetime) -> Board:
    """:class:`Board` of ``centres`` at ``at``, in four queries whatever their number."""
    ids = [c.id for c in centres]
    counts = session.execute(
        select(CentreMember.centre_id, func.count())
        .join(User, User.id == CentreMember.user_id)
        .where(CentreMember.centre_id.in_(ids), User.is_active)
        .group_by(CentreMember.centre_id)
    )
    members: dict[int, int] = dict.fromkeys(ids, 0) | {row[0]: row[1] for row in counts}
    shifts = session.scalars(
        select(DutyShift)
        .join(
            CentreMember,
            (CentreMember.centre_id == DutyShift.centre_id)
            & (CentreMember.user_id == DutyShift.user_id),
        )
        .join(User, User.id == DutyShift.user_id)
        .where(
            DutyShift.centre_id.in_(ids),
            DutyShift.starts_at <= at,
            DutyShift.ends_at > at,
            User.is_active,
        )
        .order_by(DutyShift.starts_at, DutyShift.id)
    )
    covered: dict[int, dict[int, User]] = {}
    for shift in shifts:
        covered.setdefault(shift.centre_id, {}).setdefault(shift.user_id, shift.user)
    standing: dict[int, list[User]] = {}
    for member in session.scalars(
        select(CentreMember)
        .join(User, User.id == CentreMember.user_id)
        .where(CentreMember.centre_id.in_(ids), CentreMember.on_duty, User.is_active)
        .order_by(User.id)
    ):
        standing.setdefault(member.centre_id, []).append(member.user)
    duty = {i: list(covered[i].values()) if i in covered else standing.get(i, []) for i in ids}
    named: dict[int, list[str]] = {i: [] for i in ids}
    for centre_id, slug in session.execute(
        select(CentreOrganisation.centre_id, Organisation.slug)
        .join(Organisation, Organisation.id == CentreOrganisation.organisation_id)
        .where(CentreOrganisation.centre_id.in_(ids))
        .order_by(Organisation.slug)
    ):
        named[centre_id].append(slug)
    return Board(members, duty, named)
