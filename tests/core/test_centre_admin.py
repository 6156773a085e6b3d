"""Managing vigilance centres through the kernel services (core.auth.centre_admin): the
description and constituency validated field by field, the national centre's constituency
fixed, members (CERT staff only, once), standing duty, the rota in UTC, every change audited and
only administrators (leads for duty) allowed — on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AccountAction, AuditEntry
from core.auth import centre_admin as admin
from core.auth import centre_members as people
from core.auth import centres as read
from core.auth import services as accounts
from core.auth.centre_overlaps import overlaps
from core.auth.services import TOO_LONG
from core.clock import FrozenClock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.centres import Centre, CentreMember, DutyShift, national_centre
from core.identity.models import Role, User
from tests.kit.factories import SYSTEM, make_org, make_user
from tests.kit.world import World

CLASSES = {"fraud", "malicious-code", "intrusions"}


def _entries(db: Session, action: AccountAction) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action.value).order_by(AuditEntry.id)
    return list(db.scalars(query))


def _centre(db: Session, clock: FrozenClock, slug: str = "sante", **values: object) -> Centre:
    centre = admin.create_centre(
        db,
        SYSTEM,
        slug=slug,
        name=str(values.pop("name", f"Centre {slug}")),
        clock=clock,
        **values,  # type: ignore[arg-type]
    )
    db.flush()
    return centre


def _update(db: Session, centre: Centre, clock: FrozenClock, **changes: object) -> bool:
    values: dict[str, object] = {
        "name": centre.name,
        "name_ar": centre.name_ar,
        "sectors": list(centre.sectors),
        "organisations": admin.organisation_slugs(db, centre),
        "regions": list(centre.regions),
        "categories": list(centre.categories),
        "contact_email": centre.contact_email,
        "timezone": centre.timezone,
        "working_hours": centre.working_hours,
        **changes,
    }
    return admin.update_centre(db, SYSTEM, centre, clock=clock, **values)  # type: ignore[arg-type]


def test_a_centre_is_created_with_its_constituency_and_audited(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = admin.create_centre(
        db_session,
        SYSTEM,
        slug=" Sante-Soc ",
        name=" Centre de veille santé ",
        name_ar="مركز اليقظة للصحة",
        sectors=["health", " health ", ""],
        organisations=["MIN-SANTE"],
        regions=["rabat-sale-kenitra"],
        categories=["Fraud"],
        contact_email="SOC@Sante.gov.ma",
        timezone="Africa/Casablanca",
        known_categories=CLASSES,
        clock=clock,
    )
    world.sante  # noqa: B018 — created before: the slug is looked up
    db_session.flush()
    assert (centre.slug, centre.name, centre.is_national) == (
        "sante-soc",
        "Centre de veille santé",
        False,
    )
    assert (centre.sectors, centre.regions, centre.categories) == (
        ["health"],
        ["rabat-sale-kenitra"],
        ["fraud"],
    )
    assert centre.contact_email == "soc@sante.gov.ma"
    assert centre.working_hours == {"days": [0, 1, 2, 3, 4], "start": "08:30", "end": "16:30"}
    assert admin.organisation_slugs(db_session, centre) == ["min-sante"]
    [entry] = _entries(db_session, AccountAction.CENTRE_CREATE)
    assert entry.object_id == str(centre.id) and entry.actor_label == "test"
    assert entry.after is not None and entry.after["organisations"] == ["min-sante"]


@pytest.fixture(autouse=True)
def _sante_first(world: World) -> None:
    """The health ministry exists in every test (organisations are named by slug)."""
    world.sante  # noqa: B018


def test_every_bad_field_is_named_and_nothing_is_written(
    db_session: Session, clock: FrozenClock
) -> None:
    before = db_session.scalar(select(func.count()).select_from(Centre))
    with pytest.raises(ValidationFailed) as err:
        admin.create_centre(
            db_session,
            SYSTEM,
            slug="x",
            name=" ",
            name_ar="ب" * 201,
            organisations=["min-sante", "nowhere"],
            categories=["fraud", "astrology"],
            sectors=["s" * 65],
            contact_email="not an address",
            timezone="Mars/Olympus",
            working_hours={"days": [7], "start": "18:00", "end": "08:00"},
            known_categories=CLASSES,
            clock=clock,
        )
    assert set(err.value.fields) == {
        "slug", "name", "name_ar", "organisations", "categories", "sectors", "contact_email",
        "timezone", "working_hours",
    }  # fmt: skip
    assert err.value.fields["organisations"] == "no organisation nowhere"
    assert err.value.fields["categories"] == "not an RSIT class: astrology"
    assert err.value.fields["timezone"] == admin.BAD_TIMEZONE
    assert db_session.scalar(select(func.count()).select_from(Centre)) == before
    assert _entries(db_session, AccountAction.CENTRE_CREATE) == []


@pytest.mark.parametrize("zone", ["", "Africa/Nowhere", "UTC+3", "../etc/passwd", "/etc/localtime"])
def test_time_zones_are_iana_names(db_session: Session, clock: FrozenClock, zone: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        _centre(db_session, clock, timezone=zone)
    assert set(err.value.fields) == {"timezone"}


def test_a_slug_is_taken_once(db_session: Session, clock: FrozenClock) -> None:
    _centre(db_session, clock, "finance")
    with pytest.raises(Conflict) as err:
        _centre(db_session, clock, "FINANCE")
    assert err.value.fields == {"slug": admin.SLUG_TAKEN}
    with pytest.raises(Conflict):
        _centre(db_session, clock, "national")


def test_an_update_audits_what_changed(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = _centre(db_session, clock, sectors=["health"], organisations=["min-sante"])
    interieur = world.interieur
    assert _update(db_session, centre, clock) is False
    assert _update(
        db_session, centre, clock, organisations=[interieur.slug], timezone="Europe/Paris",
        working_hours={"days": [5, 6], "start": "09:00", "end": "13:00"},
    )  # fmt: skip
    db_session.expire_all()
    assert admin.organisation_slugs(db_session, centre) == ["min-interieur"]
    assert centre.timezone == "Europe/Paris" and centre.working_hours["days"] == [5, 6]
    [entry] = _entries(db_session, AccountAction.CENTRE_UPDATE)
    assert entry.before is not None and entry.after is not None
    assert set(entry.after) == {"organisations", "timezone", "working_hours"}
    assert entry.before["organisations"] == ["min-sante"]
    assert entry.after["organisations"] == ["min-interieur"]


def test_the_national_centre_keeps_every_constituent(
    db_session: Session, clock: FrozenClock
) -> None:
    national = national_centre(db_session)
    with pytest.raises(ValidationFailed) as err:
        _update(db_session, national, clock, sectors=["health"], organisations=["min-sante"])
    assert err.value.fields == {
        "sectors": admin.NATIONAL_CONSTITUENCY, "organisations": admin.NATIONAL_CONSTITUENCY,
    }  # fmt: skip
    assert _update(
        db_session, national, clock, name_ar="المركز الوطني", contact_email="soc@cert.gov.ma"
    )
    assert national.name_ar == "المركز الوطني" and national.sectors == []


def test_members_are_active_cert_staff_once(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = _centre(db_session, clock)
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
    [entry] = _entries(db_session, AccountAction.CENTRE_MEMBER_ADD)
    assert entry.after == {"user": analyst.email, "on_duty": True}
    # an analyst created in this centre works its incidents only
    only_here = accounts.create_user(
        db_session, SYSTEM, email="soc@cert.gov.ma", name="Soc", role=Role.ANALYST,
        organisation=world.cert, password=None, centre=centre, clock=clock,
    )  # fmt: skip
    db_session.flush()
    assert Actor.for_user(only_here).centres == frozenset({centre.id})


def test_duty_and_removal(db_session: Session, clock: FrozenClock, world: World) -> None:
    centre = _centre(db_session, clock)
    analyst = world.analyst
    people.add_member(db_session, SYSTEM, centre, analyst, clock=clock)
    assert read.on_duty(db_session, centre, clock.now()) == []
    lead = Actor.for_user(world.lead)
    assert people.set_on_duty(db_session, lead, centre, analyst, True, clock=clock) is True
    assert people.set_on_duty(db_session, lead, centre, analyst, True, clock=clock) is False
    assert read.on_duty(db_session, centre, clock.now()) == [analyst]
    [entry] = _entries(db_session, AccountAction.CENTRE_DUTY)
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
    [removed] = _entries(db_session, AccountAction.CENTRE_MEMBER_REMOVE)
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
    centre = _centre(db_session, clock, timezone="Europe/Paris")
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
    [added] = _entries(db_session, AccountAction.CENTRE_SHIFT_ADD)
    assert added.after is not None and added.after["starts_at"] == start.isoformat()
    people.remove_shift(
        db_session, SYSTEM, people.get_shift(db_session, shift.id, centre), clock=clock
    )
    assert db_session.get(DutyShift, shift.id) is None
    assert len(_entries(db_session, AccountAction.CENTRE_SHIFT_REMOVE)) == 1
    with pytest.raises(NotFound):
        people.get_shift(db_session, shift.id)


@pytest.mark.parametrize("role", [Role.REPORTER, Role.ANALYST, Role.LEAD])
def test_only_admins_manage_centres(db_session: Session, clock: FrozenClock, role: Role) -> None:
    centre = _centre(db_session, clock)
    staff = make_user(db_session, clock, role=Role.ANALYST)
    people.add_member(db_session, SYSTEM, centre, staff, clock=clock)
    actor = Actor.for_user(make_user(db_session, clock, role=role))
    start = clock.now() + dt.timedelta(hours=1)
    with pytest.raises(PermissionDenied):
        admin.create_centre(db_session, actor, slug="mine", name="Mine", clock=clock)
    with pytest.raises(PermissionDenied):
        _update_as(db_session, actor, centre, clock)
    with pytest.raises(PermissionDenied):
        people.add_member(
            db_session, actor, centre, make_user(db_session, clock, role=Role.LEAD), clock=clock
        )
    with pytest.raises(PermissionDenied):
        people.remove_member(db_session, actor, centre, staff, clock=clock)
    with pytest.raises(PermissionDenied):
        people.add_shift(
            db_session,
            actor,
            centre,
            staff,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            clock=clock,
        )
    if role == Role.LEAD:
        assert people.set_on_duty(db_session, actor, centre, staff, True, clock=clock)
    else:
        with pytest.raises(PermissionDenied):
            people.set_on_duty(db_session, actor, centre, staff, True, clock=clock)
    assert centre.name == "Centre sante"


def _update_as(db: Session, actor: Actor, centre: Centre, clock: FrozenClock) -> None:
    admin.update_centre(
        db, actor, centre, name="Hijacked", name_ar=None, sectors=[], organisations=[], regions=[],
        categories=[], contact_email=None, timezone="UTC", working_hours=None, clock=clock,
    )  # fmt: skip


def test_equally_specific_centres_are_found(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.interieur  # noqa: B018
    _centre(db_session, clock, "a-health", sectors=["health"], organisations=["min-sante"])
    _centre(db_session, clock, "b-health", sectors=["health"], regions=["souss-massa"])
    _centre(db_session, clock, "c-phishing", sectors=["health"], categories=["fraud"])  # wins fraud
    _centre(db_session, clock, "d-org", organisations=["min-sante", "min-interieur"])
    _centre(db_session, clock, "e-fraud", categories=["fraud", "intrusions"])
    _centre(db_session, clock, "f-fraud", categories=["fraud"])
    found = {(o.first, o.second, o.kind, o.value, o.categories) for o in overlaps(db_session)}
    assert found == {
        ("a-health", "b-health", "sector", "health", ()),
        ("a-health", "d-org", "organisation", "min-sante", ()),
        ("e-fraud", "f-fraud", "classes", "fraud", ("fraud",)),
    }


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
    other = _centre(db_session, clock)
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
    entries = _entries(db_session, AccountAction.USER_UPDATE)
    assert entries[0].after == {"role": "analyst", "centres": ["national"]}
    assert entries[-1].before == {"role": "lead", "centres": ["national", "sante"]}
    assert (
        db_session.scalar(
            select(func.count()).select_from(CentreMember).where(CentreMember.user_id == person.id)
        )
        == 0
    )


def test_organisations_have_a_region(db_session: Session, clock: FrozenClock) -> None:
    from core.auth import organisations as orgs

    org = orgs.create_organisation(
        db_session, SYSTEM, slug="region-x", name="X", region=" souss-massa ", clock=clock
    )
    assert org.region == "souss-massa"
    with pytest.raises(ValidationFailed) as err:
        orgs.create_organisation(
            db_session, SYSTEM, slug="region-y", name="Y", region="r" * 65, clock=clock
        )
    assert err.value.fields == {"region": TOO_LONG}
    assert make_org(db_session, clock).region is None


def test_the_board_agrees_with_on_duty_for_every_centre(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    a = _centre(db_session, clock, "a-centre", organisations=["min-sante"])
    b = _centre(db_session, clock, "b-centre")
    c = _centre(db_session, clock, "c-centre")
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
