"""Organisations through the kernel services: what describes them (names, kind, sector,
contacts, telephone) validated and audited, the identifier fixed, the CERT's own kind kept while
staff belong to it, registered domains and ranges added and removed — on both DBs."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AccountAction, AuditEntry
from core.auth import organisations as orgs
from core.clock import FrozenClock
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from core.identity.models import Organisation, OrganisationAsset, OrganisationKind, Role
from tests.kit.factories import SYSTEM, make_org, make_user


def _entries(db: Session, action: AccountAction) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action.value)))


def _update(db: Session, org: Organisation, clock: FrozenClock, **changes: object) -> bool:
    values: dict[str, object] = {
        "name": org.name,
        "name_ar": org.name_ar,
        "kind": org.kind.value,
        "sector": org.sector,
        "region": org.region,
        "contact_emails": list(org.contact_emails),
        "phone": org.phone,
        **changes,
    }
    return orgs.update_organisation(db, SYSTEM, org, clock=clock, **values)  # type: ignore[arg-type]


def test_creation_normalises_contacts_and_telephone(
    db_session: Session, clock: FrozenClock
) -> None:
    org = orgs.create_organisation(
        db_session,
        SYSTEM,
        slug="Min-Sante",
        name=" Ministère de la Santé ",
        name_ar=" وزارة الصحة ",
        kind="ministry",
        sector=" Health ",
        contact_emails=["SOC@Sante.gov.ma", "soc@sante.gov.ma", " ", "rssi@sante.gov.ma"],
        phone="  +212 5 37 00  00 00 ",
        clock=clock,
    )
    assert (org.slug, org.name, org.name_ar, org.sector) == (
        "min-sante", "Ministère de la Santé", "وزارة الصحة", "Health",
    )  # fmt: skip
    assert org.contact_emails == ["soc@sante.gov.ma", "rssi@sante.gov.ma"]
    assert org.phone == "+212 5 37 00 00 00"


def test_every_bad_field_is_named_and_nothing_is_written(
    db_session: Session, clock: FrozenClock
) -> None:
    with pytest.raises(ValidationFailed) as err:
        orgs.create_organisation(
            db_session,
            SYSTEM,
            slug="-bad-",
            name="x" * 201,
            name_ar="ب" * 201,
            kind="club",
            sector="s" * 65,
            contact_emails=[f"soc{i}@sante.gov.ma" for i in range(11)],
            phone="call me",
            clock=clock,
        )
    assert err.value.fields == {
        "slug": orgs.BAD_SLUG,
        "name": orgs.TOO_LONG,
        "name_ar": orgs.TOO_LONG,
        "kind": orgs.BAD_KIND,
        "sector": orgs.TOO_LONG,
        "contact_emails": orgs.TOO_MANY_CONTACTS,
        "phone": orgs.BAD_PHONE,
    }
    for phone in ("12345", "+-------", "0537 00 00 00 ext 12", "٠٥٣٧٠٠٠٠٠٠"):
        with pytest.raises(ValidationFailed) as err:
            orgs.create_organisation(
                db_session, SYSTEM, slug="ok", name="Ok", phone=phone, clock=clock
            )
        assert err.value.fields == {"phone": orgs.BAD_PHONE}, phone
    assert db_session.scalars(select(Organisation)).all() == []


def test_a_taken_identifier_is_a_conflict(db_session: Session, clock: FrozenClock) -> None:
    make_org(db_session, clock, slug="min-sante")
    with pytest.raises(Conflict) as err:
        make_org(db_session, clock, slug="MIN-SANTE")
    assert err.value.fields == {"slug": orgs.SLUG_TAKEN}


def test_update_audits_what_changed_and_never_the_identifier(
    db_session: Session, clock: FrozenClock
) -> None:
    org = make_org(db_session, clock, slug="anrt", kind=OrganisationKind.AGENCY)
    assert _update(db_session, org, clock) is False
    changed = _update(
        db_session, org, clock, name_ar="الوكالة", sector=" telecommunications ",
        contact_emails=["soc@anrt.ma"], phone="0537 00 00 00",
    )  # fmt: skip
    assert changed and org.slug == "anrt"
    [entry] = _entries(db_session, AccountAction.ORGANISATION_UPDATE)
    assert entry.before == {"name_ar": None, "sector": None, "contact_emails": [], "phone": None}
    assert entry.after == {
        "name_ar": "الوكالة",
        "sector": "telecommunications",
        "contact_emails": ["soc@anrt.ma"],
        "phone": "0537 00 00 00",
    }


def test_the_cert_stays_of_its_kind_while_staff_belong_to_it(
    db_session: Session, clock: FrozenClock
) -> None:
    cert = make_org(db_session, clock, kind=OrganisationKind.CERT)
    make_user(db_session, clock, org=cert, role=Role.ANALYST)
    with pytest.raises(ValidationFailed) as err:
        _update(db_session, cert, clock, kind="ministry")
    assert err.value.fields == {"kind": orgs.STAFF_INSIDE}
    empty = make_org(db_session, clock, kind=OrganisationKind.CERT)
    assert _update(db_session, empty, clock, kind="agency") and empty.kind == "agency"


@pytest.mark.parametrize("role", [Role.REPORTER, Role.ANALYST, Role.LEAD])
def test_only_admins_change_organisations(
    db_session: Session, clock: FrozenClock, role: str
) -> None:
    org = make_org(db_session, clock)
    asset = orgs.add_asset(db_session, SYSTEM, org, kind="domain", value="x.gov.ma", clock=clock)
    actor = Actor.for_user(make_user(db_session, clock, role=role))
    with pytest.raises(PermissionDenied):
        orgs.update_organisation(
            db_session, actor, org, name="Hijacked", name_ar=None, kind="ministry", sector=None,
            contact_emails=[], phone=None, region=None, clock=clock,
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        orgs.add_asset(db_session, actor, org, kind="domain", value="y.gov.ma", clock=clock)
    with pytest.raises(PermissionDenied):
        orgs.remove_asset(db_session, actor, org, asset.id, clock=clock)
    with pytest.raises(PermissionDenied):
        orgs.create_organisation(db_session, actor, slug="mine", name="Mine", clock=clock)
    assert org.name != "Hijacked" and len(org.assets) == 1


def test_assets_are_validated_added_and_removed(db_session: Session, clock: FrozenClock) -> None:
    org, other = make_org(db_session, clock), make_org(db_session, clock)
    v6 = orgs.add_asset(
        db_session, SYSTEM, org, kind="ip_range", value="2001:DB8::1/48", clock=clock
    )
    assert v6.value == "2001:db8::/48"
    for kind, value, reason in [
        ("ip_range", "0.0.0.0/0", orgs.TOO_WIDE),
        ("ip_range", "10.0.0.0/7", orgs.TOO_WIDE),
        ("ip_range", "::/8", orgs.TOO_WIDE),
        ("ip_range", "999.1.1.1", orgs.BAD_RANGE),
        ("domain", "exa mple.ma", orgs.BAD_DOMAIN),
    ]:
        with pytest.raises(ValidationFailed) as err:
            orgs.add_asset(db_session, SYSTEM, org, kind=kind, value=value, clock=clock)
        assert err.value.fields == {"value": reason}, value
    with pytest.raises(ValidationFailed) as err:
        orgs.add_asset(db_session, SYSTEM, org, kind="url", value="x", clock=clock)
    assert err.value.fields == {"kind": orgs.BAD_ASSET_KIND}
    with pytest.raises(ValidationFailed) as err:
        orgs.add_asset(db_session, SYSTEM, org, kind="domain", value="a.ma", note="n" * 201,
                       clock=clock)  # fmt: skip
    assert err.value.fields == {"note": orgs.TOO_LONG}
    with pytest.raises(Conflict) as conflict:
        orgs.add_asset(db_session, SYSTEM, org, kind="ip_range", value="2001:db8::/48", clock=clock)
    assert conflict.value.fields == {"value": orgs.ASSET_TAKEN}
    with pytest.raises(NotFound):  # another organisation's asset, through this one
        orgs.remove_asset(db_session, SYSTEM, other, v6.id, clock=clock)
    orgs.remove_asset(db_session, SYSTEM, org, v6.id, clock=clock)
    assert db_session.get(OrganisationAsset, v6.id) is None
    [entry] = _entries(db_session, AccountAction.ORGANISATION_ASSET_REMOVE)
    assert entry.before == {"kind": "ip_range", "value": "2001:db8::/48"}
    assert entry.object_id == str(org.id)
