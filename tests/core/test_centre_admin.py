"""Managing vigilance centres through the kernel services (core.auth.centre_admin): the
description and constituency validated field by field, the national centre's constituency
fixed, overlapping centres found, every change audited and only administrators (leads for duty)
allowed — on both databases. Members, duty and the rota: test_centre_members.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AccountAction
from core.auth import centre_admin as admin
from core.auth import centre_members as people
from core.auth.centre_overlaps import overlaps
from core.auth.services import TOO_LONG
from core.clock import FrozenClock
from core.errors import Conflict, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.centres import Centre, national_centre
from core.identity.models import Role
from tests.core.centre_kit import audit_entries, make_centre
from tests.kit.factories import SYSTEM, make_org, make_user
from tests.kit.world import World

CLASSES = {"fraud", "malicious-code", "intrusions"}


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
    [entry] = audit_entries(db_session, AccountAction.CENTRE_CREATE)
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
    assert audit_entries(db_session, AccountAction.CENTRE_CREATE) == []


@pytest.mark.parametrize("zone", ["", "Africa/Nowhere", "UTC+3", "../etc/passwd", "/etc/localtime"])
def test_time_zones_are_iana_names(db_session: Session, clock: FrozenClock, zone: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        make_centre(db_session, clock, timezone=zone)
    assert set(err.value.fields) == {"timezone"}


def test_a_slug_is_taken_once(db_session: Session, clock: FrozenClock) -> None:
    make_centre(db_session, clock, "finance")
    with pytest.raises(Conflict) as err:
        make_centre(db_session, clock, "FINANCE")
    assert err.value.fields == {"slug": admin.SLUG_TAKEN}
    with pytest.raises(Conflict):
        make_centre(db_session, clock, "national")


def test_an_update_audits_what_changed(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = make_centre(db_session, clock, sectors=["health"], organisations=["min-sante"])
    interieur = world.interieur
    assert _update(db_session, centre, clock) is False
    assert _update(
        db_session, centre, clock, organisations=[interieur.slug], timezone="Europe/Paris",
        working_hours={"days": [5, 6], "start": "09:00", "end": "13:00"},
    )  # fmt: skip
    db_session.expire_all()
    assert admin.organisation_slugs(db_session, centre) == ["min-interieur"]
    assert centre.timezone == "Europe/Paris" and centre.working_hours["days"] == [5, 6]
    [entry] = audit_entries(db_session, AccountAction.CENTRE_UPDATE)
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


@pytest.mark.parametrize("role", [Role.REPORTER, Role.ANALYST, Role.LEAD])
def test_only_admins_manage_centres(db_session: Session, clock: FrozenClock, role: Role) -> None:
    centre = make_centre(db_session, clock)
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
    make_centre(db_session, clock, "a-health", sectors=["health"], organisations=["min-sante"])
    make_centre(db_session, clock, "b-health", sectors=["health"], regions=["souss-massa"])
    make_centre(
        db_session, clock, "c-phishing", sectors=["health"], categories=["fraud"]
    )  # wins fraud
    make_centre(db_session, clock, "d-org", organisations=["min-sante", "min-interieur"])
    make_centre(db_session, clock, "e-fraud", categories=["fraud", "intrusions"])
    make_centre(db_session, clock, "f-fraud", categories=["fraud"])
    found = {(o.first, o.second, o.kind, o.value, o.categories) for o in overlaps(db_session)}
    assert found == {
        ("a-health", "b-health", "sector", "health", ()),
        ("a-health", "d-org", "organisation", "min-sante", ()),
        ("e-fraud", "f-fraud", "classes", "fraud", ("fraud",)),
    }


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
