"""The on-duty rota of each vigilance centre, as the notification centre shows and sets it
(Flask-free use cases; leads and admins, who manage every centre).

Who is on duty for a centre at a moment is :func:`core.auth.centres.on_duty`: the members whose
shift covers it (shifts are entered in the centre's time zone on ``/admin/centres/<slug>``),
else its **standing** on-duty members (``centre_members.on_duty``), which
:func:`set_standing_duty` sets (audited as ``centre.duty``). The retired global flag
(``notification_preferences.on_duty``) is no longer read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.centre_members import set_on_duty
from core.auth.centres import get_centre_by_slug, list_centres
from core.clock import Clock
from core.errors import NotFound
from core.identity.authz import Actor, at_least, require
from core.identity.centres import Centre, CentreMember, DutyShift
from core.identity.models import Role, User


def may_manage_rota(actor: Actor) -> bool:
    """Leads and admins manage the rota of every centre."""
    return actor.is_cert_staff and at_least(actor, Role.LEAD)


@dataclass(frozen=True)
class MemberLine:
    user: User
    standing: bool  # standing on-duty member (``centre_members.on_duty``)
    on_duty_now: bool
    shift_ends_at: dt.datetime | None  # the end of the shift that covers now, if any


@dataclass(frozen=True)
class CentreRota:
    centre: Centre
    on_duty: list[User]  # now, as core.auth.centres.on_duty says
    by_shift: bool  # a shift covers now (else standing duty, or nobody)
    members: list[MemberLine]  # the active CERT members, by name


def centre_rotas(session: Session, actor: Actor, *, at: dt.datetime) -> list[CentreRota]:
    """Every centre with who is on duty at ``at`` and its active members: three queries
    (centres, members with their users, shifts covering ``at``) whatever the number of centres.
    The rule is :func:`core.auth.centres.on_duty`'s (``tests`` check they agree)."""
    require(actor, Role.LEAD, "the on-duty rota")
    centres = list_centres(session)
    members: dict[int, list[CentreMember]] = {}
    query = (
        select(CentreMember)
        .join(User, User.id == CentreMember.user_id)
        .where(User.is_active)
        .order_by(CentreMember.centre_id, User.name, User.id)
    )
    for member in session.scalars(query):
        if member.user.is_cert_staff:
            members.setdefault(member.centre_id, []).append(member)
    shifts: dict[int, dict[int, DutyShift]] = {}
    covering = select(DutyShift).where(DutyShift.starts_at <= at, DutyShift.ends_at > at)
    for shift in session.scalars(covering.order_by(DutyShift.starts_at, DutyShift.id)):
        shifts.setdefault(shift.centre_id, {}).setdefault(shift.user_id, shift)
    rotas: list[CentreRota] = []
    for centre in centres:
        mine = members.get(centre.id, [])
        covered = shifts.get(centre.id, {})
        by_shift = any(m.user_id in covered for m in mine)
        now = {m.user_id for m in mine if (m.user_id in covered if by_shift else m.on_duty)}
        lines = [
            MemberLine(
                m.user,
                m.on_duty,
                m.user_id in now,
                covered[m.user_id].ends_at if m.user_id in covered else None,
            )
            for m in mine
        ]
        duty = sorted((m.user for m in mine if m.user_id in now), key=lambda u: u.id)
        rotas.append(CentreRota(centre, duty, by_shift, lines))
    return rotas


def set_standing_duty(
    session: Session, actor: Actor, centre_slug: str, user_id: int, on_duty: bool, *, clock: Clock
) -> tuple[Centre, User]:
    """Put an active CERT member of a centre on standing duty there, or take them off (leads and
    admins; audited as ``centre.duty`` by :func:`core.auth.centre_members.set_on_duty`). A user
    who is not an active CERT member of the centre is ``NotFound``."""
    require(actor, Role.LEAD, "the on-duty rota")
    centre = get_centre_by_slug(session, centre_slug)
    user = session.get(User, user_id)
    if user is None or not user.is_active or not user.is_cert_staff:
        raise NotFound("no such CERT member of this centre")
    set_on_duty(session, actor, centre, user, on_duty, clock=clock)
    return centre, user
