"""The organisation administration pages: create one (French and Arabic names, kind, sector,
contacts, telephone), edit it (never its identifier), register and remove domains and IP
ranges; errors under each field in the user's language, duplicates as form errors, never a
500, and another organisation's asset out of reach."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.auth import organisations as orgs
from core.clock import FrozenClock
from core.identity.models import Organisation, OrganisationAsset, OrganisationKind, Role
from tests.kit.factories import PASSWORD, SYSTEM, make_org, make_user
from tests.kit.web import csrf_token, login, text

FIELDS = {
    "slug": "min-sante",
    "name": "Ministère de la Santé",
    "name_ar": "وزارة الصحة",
    "kind": "ministry",
    "sector": "Health",
    "contact_emails": "soc@sante.gov.ma\nRSSI@sante.gov.ma",
    "phone": "+212 5 37 00 00 00",
}


def _admin(client: FlaskClient, db: Session, clock: FrozenClock, locale: str = "fr") -> None:
    admin = make_user(db, clock, role=Role.ADMIN, locale=locale)
    assert login(client, admin.email, PASSWORD).status_code == 302


def _post(client: FlaskClient, path: str, data: dict[str, Any], form_page: str) -> Any:
    token = csrf_token(text(client.get(form_page)))
    return client.post(path, data={"csrf_token": token, **data})


def _orgs(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Organisation)) or 0


def test_an_admin_creates_an_organisation(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    new = "/admin/organisations/new"
    assert 'href="/admin/organisations/new"' in text(client.get("/admin/organisations"))
    response = _post(client, new, FIELDS, new)
    org = db_session.scalars(select(Organisation).where(Organisation.slug == "min-sante")).one()
    assert response.headers["Location"] == f"/admin/organisations/{org.id}"
    assert (org.name_ar, org.sector, org.phone) == ("وزارة الصحة", "Health", "+212 5 37 00 00 00")
    assert org.contact_emails == ["soc@sante.gov.ma", "rssi@sante.gov.ma"]
    page = text(client.get(response.headers["Location"]))
    assert "L’organisme Ministère de la Santé a été créé." in page
    assert '<bdi lang="ar">وزارة الصحة</bdi>' in page
    arabic = text(client.get(response.headers["Location"] + "?lang=ar"))
    assert '<h1 class="h3 mb-1" lang="ar">وزارة الصحة</h1>' in arabic
    listed = text(client.get("/admin/organisations"))
    assert f'href="/admin/organisations/{org.id}"' in listed
    entry = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "organisation.create", AuditEntry.object_id == str(org.id)
        )
    ).one()
    assert entry.after is not None and entry.after["slug"] == "min-sante" and entry.actor_id


@pytest.mark.parametrize(
    ("lang", "taken", "bad_slug", "bad_phone", "bad_contact"),
    [
        ("fr", "un organisme avec cet identifiant existe déjà", "lettres minuscules",
         "un numéro de téléphone", "une des adresses n’est pas une adresse e-mail valide"),
        ("ar", "توجد هيئة بهذا المعرّف من قبل", "أحرف لاتينية صغيرة", "رقم هاتف",
         "أحد العناوين ليس بريدًا إلكترونيًا صالحًا"),
    ],
)  # fmt: skip
def test_bad_organisations_are_explained_in_the_users_language(
    client: FlaskClient, db_session: Session, clock: FrozenClock,
    lang: str, taken: str, bad_slug: str, bad_phone: str, bad_contact: str,
) -> None:  # fmt: skip
    _admin(client, db_session, clock, locale=lang)
    make_org(db_session, clock, slug="min-sante")
    before, new = _orgs(db_session), "/admin/organisations/new"
    duplicate = _post(client, new, {**FIELDS, "slug": "MIN-SANTE"}, new)
    assert duplicate.status_code == 422 and taken in text(duplicate)
    bad = _post(client, new, {**FIELDS, "slug": "Min Santé!", "phone": "call me",
                              "contact_emails": "soc@@sante"}, new)  # fmt: skip
    page = text(bad)
    assert bad.status_code == 422
    assert bad_slug in page and bad_phone in page and bad_contact in page
    hostile_fields = {"slug": "x", "name": "n" * 5000, "kind": "club", "sector": "s" * 500,
                      "contact_emails": "a" * 5000}  # fmt: skip
    hostile = _post(client, new, {**FIELDS, **hostile_fields}, new)
    assert hostile.status_code == 422
    assert _orgs(db_session) == before


def test_an_admin_edits_an_organisation_but_never_its_identifier(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    org = make_org(db_session, clock, slug="anrt", kind=OrganisationKind.AGENCY)
    page = f"/admin/organisations/{org.id}"
    data = {**FIELDS, "slug": "hijacked", "name": "ANRT", "kind": "agency", "sector": "telecom"}
    response = _post(client, page, data, page)
    assert response.headers["Location"] == page
    db_session.refresh(org)
    assert (org.slug, org.name, org.sector) == ("anrt", "ANRT", "telecom")
    assert "a été modifié" in text(client.get(page))
    again = _post(client, page, data, page)
    assert again.status_code == 302 and "Rien à modifier." in text(client.get(page))
    wrong = _post(client, page, {**data, "phone": "x"}, page)
    assert wrong.status_code == 422 and "un numéro de téléphone" in text(wrong)
    assert client.get("/admin/organisations/99999").status_code == 404


def test_the_cert_keeps_its_kind_while_staff_belong_to_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    cert = db_session.scalars(
        select(Organisation).where(Organisation.kind == OrganisationKind.CERT)
    ).first()
    assert cert is not None
    page = f"/admin/organisations/{cert.id}"
    response = _post(client, page, {**FIELDS, "name": cert.name, "kind": "ministry"}, page)
    assert response.status_code == 422 and "il reste de type CERT" in text(response)


def test_assets_are_added_and_removed_with_errors_explained(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    org, other = make_org(db_session, clock), make_org(db_session, clock)
    foreign = orgs.add_asset(db_session, SYSTEM, other, kind="domain", value="o.ma", clock=clock)
    db_session.flush()
    page, assets = f"/admin/organisations/{org.id}", f"/admin/organisations/{org.id}/assets"
    added = _post(client, assets, {"kind": "ip_range", "value": "198.51.100.7/24",
                                   "note": "passerelle"}, page)  # fmt: skip
    assert added.headers["Location"] == page + "#assets"
    shown = text(client.get(page))
    assert "198.51.100.0/24 est enregistré pour" in shown and "passerelle" in shown
    for value, reason in [
        ("198.51.100.0/24", "déjà enregistré pour cet organisme"),
        ("0.0.0.0/0", "plage trop large"),
        ("300.1.1.1", "ni une adresse IP ni une plage CIDR"),
    ]:
        refused = _post(client, assets, {"kind": "ip_range", "value": value}, page)
        assert refused.status_code == 422 and reason in text(refused), value
    bad_kind = _post(client, assets, {"kind": "url", "value": "x"}, page)
    assert bad_kind.status_code == 422
    asset = db_session.scalars(
        select(OrganisationAsset).where(OrganisationAsset.organisation_id == org.id)
    ).one()
    # another organisation's asset through this organisation's address: not found
    assert _post(client, f"{assets}/{foreign.id}/remove", {}, page).status_code == 404
    removed = _post(client, f"{assets}/{asset.id}/remove", {}, page)
    assert removed.headers["Location"] == page + "#assets"
    assert "n’est plus enregistré pour" in text(client.get(page))
    removed_id, foreign_id = asset.id, foreign.id
    db_session.expire_all()
    assert db_session.get(OrganisationAsset, removed_id) is None
    assert db_session.get(OrganisationAsset, foreign_id) is not None


@pytest.mark.parametrize(
    ("kind", "value", "stored", "refused"),
    [
        ("domain", "Santé.GOV.ma.", "xn--sant-epa.gov.ma", "not a domain"),
        ("ip_range", "2001:db8::1/48", "2001:db8::/48", "::/0"),
    ],
)
def test_domains_and_ranges_share_one_route_each_way_in_arabic(
    client: FlaskClient, db_session: Session, clock: FrozenClock, kind: str, value: str,
    stored: str, refused: str,
) -> None:  # fmt: skip
    _admin(client, db_session, clock, locale="ar")
    org = make_org(db_session, clock, name_ar="وزارة الصحة")
    page, assets = f"/admin/organisations/{org.id}", f"/admin/organisations/{org.id}/assets"
    added = _post(client, assets, {"kind": kind, "value": value}, page)
    assert added.status_code == 302 and added.headers["Location"] == page + "#assets"
    shown = text(client.get(page))
    assert f"تم تسجيل {stored} باسم وزارة الصحة." in shown  # named in the page's script
    audited = db_session.scalar(select(func.count()).select_from(AuditEntry))
    bad = _post(client, assets, {"kind": kind, "value": refused}, page)
    assert bad.status_code == 422 and 'class="invalid-feedback' in text(bad)
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == audited
    asset = db_session.scalars(select(OrganisationAsset)).one()
    assert (asset.kind, asset.value) == (kind, stored)
    removed = _post(client, f"{assets}/{asset.id}/remove", {}, page)
    assert removed.headers["Location"] == page + "#assets"
    db_session.expire_all()
    assert db_session.scalars(select(OrganisationAsset)).all() == []
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["organisation.asset_add", "organisation.asset_remove"]
