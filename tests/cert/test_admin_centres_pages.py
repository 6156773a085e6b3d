"""The vigilance centres' administration pages: the list (constituency, members, on duty now,
the equal-specificity warning), a new centre, a centre's page (description, members with
standing duty, rota in the centre's local time); errors re-rendered under their fields (422),
nothing written then, the result of each action flashed; admins only — on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.auth import centre_admin, centre_members
from core.clock import FrozenClock
from core.identity.centres import Centre, CentreMember, DutyShift
from core.identity.models import Role
from tests.kit.factories import SYSTEM
from tests.kit.web import csrf_token, sign_in, text
from tests.kit.world import World

FIELDS: dict[str, Any] = {
    "slug": "sante",
    "name": "Centre de veille santé",
    "name_ar": "مركز اليقظة الصحي",
    "contact_email": "soc@sante.gov.ma",
    "organisations": ["min-sante"],
    "sectors": "health, Health",
    "regions": "",
    "categories": ["fraud"],
    "timezone": "Africa/Casablanca",
    "working_hours": ["0", "1", "2", "3", "4"],
    "start": "08:30",
    "end": "16:30",
}


@pytest.fixture
def admin_client(client: FlaskClient, world: World, db_session: Session) -> FlaskClient:
    """An administrator reading English (the messages checked stay what they are once the
    catalogues translate them)."""
    world.sante  # noqa: B018 — an organisation to name
    world.admin.locale = "en"
    db_session.flush()
    return sign_in(client, world.admin)


def _post(client: FlaskClient, path: str, data: dict[str, Any], form_page: str) -> Any:
    token = csrf_token(text(client.get(form_page)))
    return client.post(path, data={"csrf_token": token, **data})


def _centre(db: Session, clock: FrozenClock, slug: str = "finance", **values: Any) -> Centre:
    centre = centre_admin.create_centre(
        db, SYSTEM, slug=slug, name=f"Centre {slug}", clock=clock, **values
    )
    db.flush()
    return centre


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_an_admin_creates_a_centre(admin_client: FlaskClient, db_session: Session) -> None:
    page = text(admin_client.get("/admin/centres"))
    assert 'href="/admin/centres/new"' in page and "national" in page
    assert 'href="/admin/centres"' in page  # the administration menu
    response = _post(admin_client, "/admin/centres/new", FIELDS, "/admin/centres/new")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/centres/sante"
    centre = db_session.scalars(select(Centre).where(Centre.slug == "sante")).one()
    assert (centre.sectors, centre.categories, centre.name_ar) == (
        ["health", "Health"],
        ["fraud"],
        "مركز اليقظة الصحي",
    )
    assert centre_admin.organisation_slugs(db_session, centre) == ["min-sante"]
    shown = text(admin_client.get("/admin/centres/sante"))
    assert "The centre Centre de veille santé has been created." in shown
    listed = text(admin_client.get("/admin/centres"))
    assert "min-sante" in listed and "health, Health" in listed


def test_errors_are_shown_under_their_fields_and_nothing_is_written(
    admin_client: FlaskClient, db_session: Session
) -> None:
    before = (_count(db_session, Centre), _count(db_session, AuditEntry))
    bad = {
        **FIELDS,
        "slug": "x",
        "timezone": "Mars/Base",
        "organisations": ["nowhere"],
        "start": "18:00",
    }
    response = _post(admin_client, "/admin/centres/new", bad, "/admin/centres/new")
    assert response.status_code == 422
    page = text(response)
    for reason in (
        "lower-case letters, digits and dashes, 2 to 64 characters",
        "not a time zone, e.g. Africa/Casablanca",
        "no organisation nowhere",
    ):
        assert reason in page, reason
    assert (_count(db_session, Centre), _count(db_session, AuditEntry)) == before
    taken = _post(
        admin_client, "/admin/centres/new", {**FIELDS, "slug": "national"}, "/admin/centres/new"
    )
    assert taken.status_code == 422 and "a centre with this identifier already exists" in text(
        taken
    )


def test_members_duty_and_rota_from_the_centre_page(
    admin_client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = _centre(db_session, clock, timezone="Europe/Paris")
    analyst, reporter = world.analyst, world.reporter
    page = "/admin/centres/finance"
    added = _post(
        admin_client, f"{page}/members", {"member-user": analyst.id, "member-on_duty": "y"}, page
    )
    assert added.status_code == 302 and added.headers["Location"].endswith("#members")
    member = centre_members.membership(db_session, centre, analyst)
    assert member is not None and member.on_duty
    assert f"{analyst.name} is a member of Centre finance." in text(admin_client.get(page))
    refused = _post(admin_client, f"{page}/members", {"member-user": reporter.id}, page)
    assert refused.status_code == 422
    assert "only active analysts, coordinators and administrators join a centre" in text(refused)
    assert centre_members.membership(db_session, centre, reporter) is None
    off = _post(admin_client, f"{page}/members/{analyst.id}/duty", {}, page)
    assert off.status_code == 302
    db_session.refresh(member)
    assert member.on_duty is False
    # a shift tomorrow 08:00–16:00 Paris time (UTC+1 in January: 07:00–15:00 UTC)
    day = (clock.now() + dt.timedelta(days=1)).date()
    shift_fields = {
        "shift-user": analyst.id,
        "shift-starts_at": f"{day}T08:00",
        "shift-ends_at": f"{day}T16:00",
        "shift-note": "jour",
    }
    response = _post(admin_client, f"{page}/shifts", shift_fields, page)
    assert response.status_code == 302, text(response)
    shift = db_session.scalars(select(DutyShift).where(DutyShift.centre_id == centre.id)).one()
    assert shift.starts_at == dt.datetime.combine(day, dt.time(7), dt.UTC)
    shown = text(admin_client.get(page))
    assert "08:00" in shown and "16:00" in shown and "Europe/Paris" in shown
    backwards = {
        **shift_fields, "shift-starts_at": f"{day}T18:00", "shift-ends_at": f"{day}T09:00",
    }  # fmt: skip
    refused_shift = _post(admin_client, f"{page}/shifts", backwards, page)
    assert refused_shift.status_code == 422 and "the end comes after the start" in text(
        refused_shift
    )
    assert _count(db_session, DutyShift) == 1
    removed = _post(admin_client, f"{page}/shifts/{shift.id}/remove", {}, page)
    assert removed.status_code == 302 and _count(db_session, DutyShift) == 0
    left = _post(admin_client, f"{page}/members/{analyst.id}/remove", {}, page)
    assert left.status_code == 302
    assert centre_members.membership(db_session, centre, analyst) is None
    actions = set(
        db_session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "centre"))
    )
    assert {
        "centre.member_add",
        "centre.duty",
        "centre.shift_add",
        "centre.shift_remove",
        "centre.member_remove",
    } <= actions


def test_the_national_centre_keeps_its_constituency_and_equal_centres_are_flagged(
    admin_client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _centre(db_session, clock, "a-health", sectors=["health"])
    _centre(db_session, clock, "b-health", sectors=["health"])
    warned = text(admin_client.get("/admin/centres"))
    assert "a-health" in warned and "sector health" in warned
    page = "/admin/centres/national"
    fields = {
        **FIELDS,
        "name": "Centre national",
        "organisations": [],
        "sectors": "",
        "categories": [],
    }
    response = _post(admin_client, page, fields, page)
    assert response.status_code == 302
    assert (
        db_session.scalars(select(Centre).where(Centre.is_national)).one().name == "Centre national"
    )
    with_sector = _post(admin_client, page, {**fields, "sectors": "health"}, page)
    assert with_sector.status_code == 422 and "the national centre has every constituent" in text(
        with_sector
    )


def test_arabic_and_english_pages(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    admin = world.admin
    admin.locale = "ar"
    db_session.flush()
    _centre(db_session, clock, name_ar="مركز المالية")
    sign_in(client, admin)
    page = text(client.get("/admin/centres/finance"))
    assert 'dir="rtl"' in page and "مركز المالية" in page


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LEAD, Role.REPORTER])
def test_only_admins_reach_the_centre_pages(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World, role: Role
) -> None:
    centre = _centre(db_session, clock)
    analyst = world.analyst
    sign_in(client, world.person(role))
    for path in ("/admin/centres", "/admin/centres/new", "/admin/centres/finance"):
        assert client.get(path).status_code in (403, 404), path
    token = csrf_token(text(client.get("/account")))
    response = client.post(
        "/admin/centres/finance/members", data={"csrf_token": token, "member-user": analyst.id}
    )
    assert response.status_code in (403, 404)
    assert _count(db_session, CentreMember) == db_session.scalar(
        select(func.count()).select_from(CentreMember).where(CentreMember.centre_id != centre.id)
    )


def test_a_new_cert_account_joins_the_centre_chosen(
    admin_client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = _centre(db_session, clock)
    form = text(admin_client.get("/admin/users/new"))
    assert f'<option value="{centre.id}">Centre finance (finance)</option>' in form
    data = {
        "email": "nadia@cert.gov.ma", "name": "Nadia", "role": "analyst",
        "organisation": world.cert.id, "locale": "fr", "centre": centre.id,
        "password_mode": "link", "password": "", "confirm_password": "",
    }  # fmt: skip
    response = _post(admin_client, "/admin/users/new", data, "/admin/users/new")
    assert response.status_code == 302, text(response)
    user_id = db_session.scalar(
        select(CentreMember.user_id).where(CentreMember.centre_id == centre.id)
    )
    members = db_session.scalars(
        select(CentreMember.centre_id).where(CentreMember.user_id == user_id)
    )
    assert list(members) == [centre.id]
    bad = _post(
        admin_client,
        "/admin/users/new",
        {**data, "email": "x@cert.gov.ma", "centre": 99999},
        "/admin/users/new",
    )
    assert bad.status_code == 422 and "Not a valid choice" in text(bad)


def test_a_user_page_names_the_centres(
    admin_client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    centre = _centre(db_session, clock)
    analyst = world.analyst
    centre_members.add_member(db_session, SYSTEM, centre, analyst, clock=clock)
    db_session.flush()
    page = text(admin_client.get(f"/admin/users/{analyst.id}"))
    assert 'href="/admin/centres/finance"' in page and 'href="/admin/centres/national"' in page


def test_another_centres_shift_or_member_is_out_of_reach(
    admin_client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    finance, other = _centre(db_session, clock), _centre(db_session, clock, "energie")
    analyst = world.analyst
    centre_members.add_member(db_session, SYSTEM, finance, analyst, clock=clock)
    start = clock.now() + dt.timedelta(hours=2)
    shift = centre_members.add_shift(
        db_session, SYSTEM, finance, analyst, starts_at=start,
        ends_at=start + dt.timedelta(hours=3), clock=clock,
    )  # fmt: skip
    db_session.flush()
    page = "/admin/centres/energie"
    assert _post(admin_client, f"{page}/shifts/{shift.id}/remove", {}, page).status_code == 404
    assert _post(admin_client, f"{page}/members/{analyst.id}/remove", {}, page).status_code == 404
    assert (
        _post(admin_client, f"{page}/members/{analyst.id}/duty", {"on": "y"}, page).status_code
        == 404
    )
    assert admin_client.get("/admin/centres/nowhere").status_code == 404
    assert db_session.get(DutyShift, shift.id) is not None
    assert centre_members.membership(db_session, other, analyst) is None
