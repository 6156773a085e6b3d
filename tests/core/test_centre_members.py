"""Centre members through the kernel services (core.auth.centre_members): CERT staff only and
once, standing duty, the rota checked and stored in UTC, a role change joining or leaving the
national centre, the duty board agreeing with ``on_duty`` — every change audited, on both
databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AccountAction
from core.auth import centre_members as people
from core.auth import centres as read
from core.auth import services as accounts
from core.auth.services import TOO_LONG
from core.clock import FrozenClock
from core.errors import Conflict, NotFound, ValidationFailed
from core.identity.authz import Actor
from core.identity.centres import CentreMember, DutyShift, national_centre
from core.identity.models import Role, User
from tests.core.centre_kit import audit_entries, make_centre
from tests.kit.factories import SYSTEM, make_user
from tests.kit.world import World


@pytest.fixture(autouse=True)
def _sante_first(world: World) -> None:
    """The health ministry exists in every test (organisations are named by slug)."""
    world.sante  # noqa: B018


def test_members_are_active_cert_staff_once(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = make_centre(db_session, clock)
    analyst = world.analyst
    member = people.add_member(db_session, SYSTEM, centre, analyst, on_duty=True, clock=clock)
    assert member.on_duty
    with pytest.raises(Conflict) as dup:
        people.add_member(db_session, SYSTEM, centre, analyst, clock=clock)
    assert dup.value.fields == {"user": people.ALREADY_MEMBER}
    with pytest.raises(ValidationFailed) as err:
        people.add_member(db_session, SYSTEM, centre, world.reporter, clock=clock)
    assert err.value.fields == {"user": people.NOT_STAFF}
    gone = world.analyst2
    accounts.set_active(db_session, SYSTEM, gone, False, clock=clock)
    with pytest.raises(ValidationFailed):
        people.add_member(db_session, SYSTEM, centre, gone, clock=clock)
    assert [m.user_id for m in read.members_of(db_session, centre)] == [analyst.id]
    [entry] = audit_entries(db_session, AccountAction.CENTRE_MEMBER_ADD)
    assert entry.after == {"user": analyst.email, "on_duty": True}
    # an analyst created in this centre works its incidents only
    only_here = accounts.create_user(
        db_session, SYSTEM, email="soc@cert.gov.ma", name="Soc", role=Role.ANALYST,
        organisation=world.cert, password=None, centre=centre, clock=clock,
    )  # fmt: skip
    db_session.flush()
    assert Actor.for_user(only_here).centres == frozenset({centre.id})


def test_duty_and_removal(db_session: Session, clock: FrozenClock, world: World) -> None:
    centre = make_centre(db_session, clock)
    analyst = world.analyst
    people.add_member(db_session, SYSTEM, centre, analyst, clock=clock)
    assert read.on_duty(db_session, centre, clock.now()) == []
    lead = Actor.for_user(world.lead)
    assert people.set_on_duty(db_session, lead, centre, analyst, True, clock=clock) is True
    assert people.set_on_duty(db_session, lead, centre, analyst, True, clock=clock) is False
    assert read.on_duty(db_session, centre, clock.now()) == [analyst]
    [entry] = audit_entries(db_session, AccountAction.CENTRE_DUTY)
    assert entry.actor_id == world.lead.id and entry.after == {
        "user": analyst.email,
        "on_duty": True,
    }
    start = clock.now() + dt.timedelta(days=1)
    past = people.add_shift(
        db_session, SYSTEM, centre, analyst, starts_at=clock.now() - dt.timedelta(hours=2),
        ends_at=clock.now() + dt.timedelta(hours=1), clock=clock,
    )  # fmt: skip
    people.add_shift(
        db_session, SYSTEM, centre, analyst, starts_at=start, ends_at=start + dt.timedelta(hours=8),
        clock=clock,
    )  # fmt: skip
    clock.advance(hours=2)  # the first shift is over now
    assert people.remove_member(db_session, SYSTEM, centre, analyst, clock=clock) == 1
    assert people.membership(db_session, centre, analyst) is None
    shifts = db_session.scalars(select(DutyShift.id).where(DutyShift.centre_id == centre.id))
    assert list(shifts) == [past.id]  # the history stays
    [removed] = audit_entries(db_session, AccountAction.CENTRE_MEMBER_REMOVE)
    assert removed.before == {"user": analyst.email, "on_duty": True}
    assert removed.after == {"shifts_removed": 1}
    with pytest.raises(NotFound) as err:
        people.remove_member(db_session, SYSTEM, centre, analyst, clock=clock)
    assert err.value.fields == {"user": people.NOT_MEMBER}
    with pytest.raises(NotFound):
        people.set_on_duty(db_session, SYSTEM, centre, analyst, False, clock=clock)


def test_shifts_are_checked_and_stored_in_utc(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = make_centre(db_session, clock, timezone="Europe/Paris")
    analyst, outsider = world.analyst, world.analyst2
    people.add_member(db_session, SYSTEM, centre, analyst, clock=clock)
    # 2026-01-20 08:00 in Paris (winter, UTC+1) is 07:00 UTC
    start = people.local_to_utc(centre, dt.datetime(2026, 1, 20, 8, 0))  # noqa: DTZ001
    assert start == dt.datetime(2026, 1, 20, 7, 0, tzinfo=dt.UTC)
    shift = people.add_shift(
        db_session, SYSTEM, centre, analyst, starts_at=start,
        ends_at=start + dt.timedelta(hours=10), note="  astreinte   nuit ", clock=clock,
    )  # fmt: skip
    db_session.expire_all()
    stored = db_session.get(DutyShift, shift.id)
    assert stored is not None and stored.starts_at == start and stored.note == "astreinte nuit"
    assert people.utc_to_local(centre, stored.starts_at).hour == 8
    assert read.on_duty(db_session, centre, start + dt.timedelta(hours=1)) == [analyst]

    def refused(
        user: User, starts: dt.datetime, ends: dt.datetime, note: str = ""
    ) -> dict[str, str]:
        with pytest.raises(ValidationFailed) as err:
            people.add_shift(
                db_session, SYSTEM, centre, user, starts_at=starts, ends_at=ends, note=note,
                clock=clock,
            )  # fmt: skip
        return err.value.fields

    hour = dt.timedelta(hours=1)
    assert refused(outsider, start, start + hour) == {"user": people.NOT_MEMBER}
    assert refused(analyst, start + hour, start) == {"ends_at": people.END_BEFORE_START}
    assert refused(analyst, start, start + dt.timedelta(days=32)) == {
        "ends_at": people.TOO_LONG_SHIFT
    }
    assert refused(analyst, start - 30 * 24 * hour, clock.now()) == {"ends_at": people.SHIFT_OVER}
    assert refused(analyst, start + 9 * hour, start + 12 * hour) == {
        "starts_at": people.SHIFT_OVERLAP
    }
    assert refused(analyst, start + 20 * hour, start + 21 * hour, "n" * 201) == {"note": TOO_LONG}
    [added] = audit_entries(db_session, AccountAction.CENTRE_SHIFT_ADD)
    assert added.after is not None and added.after["starts_at"] == start.isoformat()
    people.remove_shift(
        db_session, SYSTEM, people.get_shift(db_session, shift.id, centre), clock=clock
    )
    assert db_session.get(DutyShift, shift.id) is None
    assert len(audit_entries(db_session, AccountAction.CENTRE_SHIFT_REMOVE)) == 1
    with pytest.raises(NotFound):
        people.get_shift(db_session, shift.id)


def test_a_reporter_made_staff_joins_the_national_centre_and_back(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    person = make_user(db_session, clock, role=Role.REPORTER, org=world.cert)
    national = national_centre(db_session)
    assert read.centres_of(db_session, person.id) == []

    def change(role: Role) -> None:
        accounts.update_user(
            db_session, SYSTEM, person, name=person.name, role=role, organisation=world.cert,
            locale="fr", clock=clock,
        )  # fmt: skip

    change(Role.ANALYST)
    assert [c.id for c in read.centres_of(db_session, person.id)] == [national.id]
    change(Role.LEAD)  # staff stays in its centres
    assert len(read.centres_of(db_session, person.id)) == 1
    other = make_centre(db_session, clock)
    people.add_member(db_session, SYSTEM, other, person, clock=clock)
    start = clock.now() + dt.timedelta(days=1)
    people.add_shift(
        db_session,
        SYSTEM,
        other,
        person,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=4),
        clock=clock,
    )
    change(Role.REPORTER)
    assert read.centres_of(db_session, person.id) == []
    assert (
        db_session.scalar(
            select(func.count()).select_from(DutyShift).where(DutyShift.user_id == person.id)
        )
        == 0
    )
    entries = audit_entries(db_session, AccountAction.USER_UPDATE)
    assert entries[0].after == {"role": "analyst", "centres": ["national"]}
    assert entries[-1].before == {"role": "lead", "centres": ["national", "sante"]}
    assert (
        db_session.scalar(
            select(func.count()).select_from(CentreMember).where(CentreMember.user_id == person.id)
        )
        == 0
    )


def test_the_board_agrees_with_on_duty_for_every_centre(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    a = make_centre(db_session, clock, "a-centre", organisations=["min-sante"])
    b = make_centre(db_session, clock, "b-centre")
    c = make_centre(db_session, clock, "c-centre")
    analyst, other, lead = world.analyst, world.analyst2, world.lead
    for centre, user, duty in [
        (a, analyst, True),
        (a, other, False),
        (b, other, True),
        (b, lead, True),
    ]:
        people.add_member(db_session, SYSTEM, centre, user, on_duty=duty, clock=clock)
    hour = dt.timedelta(hours=1)
    people.add_shift(
        db_session,
        SYSTEM,
        a,
        other,
        starts_at=clock.now() - hour,
        ends_at=clock.now() + hour,
        clock=clock,
    )
    people.add_shift(
        db_session,
        SYSTEM,
        b,
        lead,
        starts_at=clock.now() + hour,
        ends_at=clock.now() + 2 * hour,
        clock=clock,
    )
    accounts.set_active(db_session, SYSTEM, lead, False, clock=clock)
    centres = [national_centre(db_session), a, b, c]
    for moment in (clock.now(), clock.now() + 1.5 * hour, clock.now() + 3 * hour):
        seen = people.board(db_session, centres, moment)
        for centre in centres:
            expected = [u.id for u in read.on_duty(db_session, centre, moment)]
            assert [u.id for u in seen.on_duty[centre.id]] == expected, (centre.slug, moment)
    now = people.board(db_session, centres, clock.now())
    assert [u.id for u in now.on_duty[a.id]] == [other.id]  # the shift before standing duty
    assert [u.id for u in now.on_duty[b.id]] == [other.id]  # the inactive lead is not
    assert (now.members[a.id], now.members[b.id], now.members[c.id]) == (2, 1, 0)
    assert now.organisations == {centres[0].id: [], a.id: ["min-sante"], b.id: [], c.id: []}
