"""The user administration pages: who may use them (the whole matrix), CSRF, creating an account
(a link e-mailed, or a password), errors per field in the user's language and never a 500,
changing role and organisation, deactivation ending sessions and tokens, links, API tokens of
any user (never their secret), times in CERT_TIMEZONE with the zone named."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.auth import organisations as orgs
from core.clock import FrozenClock
from core.identity.models import ApiToken, OrganisationKind, PasswordReset, Role, User
from core.outbox import OutboxMessage
from tests.kit.factories import PASSWORD, SYSTEM, make_org, make_token, make_user
from tests.kit.outbox import opened_context
from tests.kit.web import csrf_token, login, text

# (method, path) of every administration route; {user}, {token}, {org}, {asset} filled in
ROUTES = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{user}"),
    ("POST", "/admin/users/{user}"),
    ("GET", "/admin/users/{user}/password"),
    ("POST", "/admin/users/{user}/password"),
    ("POST", "/admin/users/{user}/end-sessions"),
    ("POST", "/admin/users/{user}/deactivate"),
    ("POST", "/admin/users/{user}/activate"),
    ("POST", "/admin/users/{user}/send-link"),
    ("POST", "/admin/users/{user}/mfa-reset"),
    ("POST", "/admin/users/{user}/tokens/{token}/revoke"),
    ("GET", "/admin/tokens"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/organisations"),
    ("GET", "/admin/organisations/new"),
    ("POST", "/admin/organisations/new"),
    ("GET", "/admin/organisations/{org}"),
    ("POST", "/admin/organisations/{org}"),
    ("POST", "/admin/organisations/{org}/assets"),
    ("POST", "/admin/organisations/{org}/assets/{asset}/remove"),
]


def _admin(client: FlaskClient, db: Session, clock: FrozenClock, **kw: Any) -> User:
    admin = make_user(db, clock, role=Role.ADMIN, name="Admin", **kw)
    assert login(client, admin.email, PASSWORD).status_code == 302
    return admin


def _post(
    client: FlaskClient, path: str, data: dict[str, Any], form_page: str | None = None
) -> Any:
    token = csrf_token(text(client.get(form_page or "/account")))
    return client.post(path, data={"csrf_token": token, **data})


def _new_user(client: FlaskClient, **fields: Any) -> Any:
    data = {"email": "", "name": "", "role": "reporter", "organisation": "", "locale": "fr",
            "password_mode": "link", "password": "", "confirm_password": "", **fields}  # fmt: skip
    return _post(client, "/admin/users/new", data, "/admin/users/new")


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("role", [Role.REPORTER, Role.ANALYST, Role.LEAD])
def test_every_administration_route_is_forbidden_below_admin(
    app: Flask, db_session: Session, clock: FrozenClock, role: str
) -> None:
    victim = make_user(db_session, clock, name="Victim")
    token, _secret = make_token(db_session, clock, victim)
    org = victim.organisation
    asset = orgs.add_asset(db_session, SYSTEM, org, kind="domain", value="v.gov.ma", clock=clock)
    db_session.flush()
    client = app.test_client()
    login(client, make_user(db_session, clock, role=role).email, PASSWORD)
    csrf = csrf_token(text(client.get("/account")))
    writes = _count(db_session, AuditEntry)
    for method, pattern in ROUTES:
        path = pattern.format(user=victim.id, token=token.id, org=org.id, asset=asset.id)
        data = {"csrf_token": csrf, "name": "Hijacked", "role": "admin", "email": "x@y.ma"}
        response = client.open(path, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (role, method, path)
    assert _count(db_session, AuditEntry) == writes  # nothing changed, nothing audited
    db_session.refresh(victim)
    assert victim.is_active and victim.role == Role.REPORTER and victim.name == "Victim"


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for method, pattern in ROUTES:
        path = pattern.format(user=1, token=1, org=1, asset=1)
        response = client.open(path, method=method)
        assert response.status_code in {302, 400}, (method, path)  # 400: POST without CSRF
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login?next=")


def test_admin_posts_need_their_csrf_token(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    victim = make_user(db_session, clock)
    for path in (f"/admin/users/{victim.id}/deactivate", "/admin/users/new"):
        assert client.post(path, data={"email": "x@y.ma"}).status_code == 400
    db_session.refresh(victim)
    assert victim.is_active


def test_an_admin_creates_an_account_and_the_user_is_mailed_a_link(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    ministry = make_org(db_session, clock, slug="min-sante", name="Ministère de la Santé")
    response = _new_user(
        client, email="RSSI@Sante.gov.ma", name="Leila Berrada", organisation=ministry.id,
        locale="ar",
    )  # fmt: skip
    user = db_session.scalars(select(User).where(User.email == "rssi@sante.gov.ma")).one()
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert user.password_hash is None and user.locale == "ar"
    page = text(client.get(response.headers["Location"]))
    assert "un lien pour choisir le mot de passe a été envoyé" in page
    assert "Pas encore choisi" in page
    mail = db_session.scalars(select(OutboxMessage)).one()
    assert (mail.to_addr, mail.language) == ("rssi@sante.gov.ma", "ar")
    assert opened_context(mail)["invite"] is True
    assert db_session.scalars(select(PasswordReset)).one().purpose == "invite"
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"user.create", "user.reset_link"} <= actions


def test_an_admin_may_set_the_password_now_under_the_policy(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    org = make_org(db_session, clock)
    fields = {"email": "karim@x.gov.ma", "name": "Karim", "organisation": org.id,
              "password_mode": "set"}  # fmt: skip
    empty = _new_user(client, **fields)
    assert empty.status_code == 422 and "Saisissez le mot de passe" in text(empty)
    weak = _new_user(client, **fields, password="password123456", confirm_password="password123456")
    assert weak.status_code == 422 and "trop courant" in text(weak)
    good = "Seven quiet harbours at dusk"
    assert _new_user(client, **fields, password=good, confirm_password=good).status_code == 302
    assert login(FlaskClient(client.application), "karim@x.gov.ma", good).status_code == 302
    assert _count(db_session, OutboxMessage) == 0


@pytest.mark.parametrize(
    ("lang", "taken", "outside_cert", "bad_email"),
    [
        ("fr", "un compte avec cette adresse e-mail existe déjà",
         "appartiennent à un organisme de type CERT", "adresse e-mail non valide"),
        ("ar", "يوجد حساب بهذا البريد الإلكتروني من قبل", "هيئة من نوع CERT",
         "بريد إلكتروني غير صالح"),
    ],
)  # fmt: skip
def test_bad_input_is_explained_under_each_field_in_the_users_language(
    client: FlaskClient, db_session: Session, clock: FrozenClock,
    lang: str, taken: str, outside_cert: str, bad_email: str,
) -> None:  # fmt: skip
    _admin(client, db_session, clock, locale=lang)
    ministry = make_org(db_session, clock)
    make_user(db_session, clock, email="rssi@x.gov.ma")
    before = _count(db_session, User)
    duplicate = _new_user(client, email="RSSI@x.gov.ma", name="Dup", organisation=ministry.id)
    assert duplicate.status_code == 422 and taken in text(duplicate)
    staff = _new_user(
        client, email="a@x.gov.ma", name="A", role="analyst", organisation=ministry.id
    )
    assert staff.status_code == 422 and outside_cert in text(staff)
    invalid = _new_user(client, email="a@@x", name="A", organisation=ministry.id)
    assert invalid.status_code == 422 and bad_email in text(invalid)
    hostile = _new_user(client, email="a@x.gov.ma", name="x" * 5000, role="god",
                        organisation="99999999", locale="xx")  # fmt: skip
    assert hostile.status_code == 422
    assert _count(db_session, User) == before
    assert _count(db_session, OutboxMessage) == 0


def test_an_admin_changes_role_and_organisation_and_it_is_audited(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    admin = _admin(client, db_session, clock)
    ministry = make_org(db_session, clock, slug="min-sante")
    user = make_user(db_session, clock, org=ministry, name="Nadia")
    page = f"/admin/users/{user.id}"
    data = {"name": "Nadia Alaoui", "role": "analyst", "organisation": admin.organisation_id,
            "locale": "en"}  # fmt: skip
    wrong = _post(client, page, {**data, "organisation": ministry.id}, page)
    assert wrong.status_code == 422 and "appartiennent à un organisme de type CERT" in text(wrong)
    done = _post(client, page, data, page)
    assert done.headers["Location"] == page
    assert "Le compte de" in text(client.get(page))
    db_session.refresh(user)
    assert (user.name, user.role, user.organisation_id) == (
        "Nadia Alaoui",
        "analyst",
        admin.organisation_id,
    )
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).one()
    assert (
        entry.actor_id == admin.id and entry.after is not None and entry.after["role"] == "analyst"
    )
    own = text(client.get(f"/admin/users/{admin.id}"))
    assert 'type="hidden" name="role" value="admin"' in own and 'id="role"' not in own


def test_deactivation_signs_the_user_out_and_stops_their_tokens(
    app: Flask, db_session: Session, clock: FrozenClock
) -> None:
    admin_client = app.test_client()
    admin = _admin(admin_client, db_session, clock)
    user = make_user(db_session, clock)
    _token, secret = make_token(db_session, clock, user)
    victim = app.test_client()
    login(victim, user.email, PASSWORD)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert victim.get("/api/v1/me", headers=bearer).status_code == 200
    page = f"/admin/users/{user.id}"
    response = _post(admin_client, f"{page}/deactivate", {}, page)
    assert response.headers["Location"] == page
    assert "a été désactivé" in text(admin_client.get(page))
    assert victim.get("/account").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    assert login(app.test_client(), user.email, PASSWORD).status_code == 200  # refused
    _post(admin_client, f"{page}/activate", {}, page)
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
    self_off = _post(admin_client, f"/admin/users/{admin.id}/deactivate", {}, page)
    assert self_off.status_code == 302
    assert "vous ne pouvez pas désactiver votre propre compte" in text(admin_client.get(page))
    db_session.refresh(admin)
    assert admin.is_active


def test_an_admin_sends_a_link_and_revokes_any_token_without_seeing_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    _admin(client, db_session, clock)
    user, other = make_user(db_session, clock), make_user(db_session, clock)
    token, secret = make_token(db_session, clock, user, label="siem export")
    foreign, _ = make_token(db_session, clock, other)
    page = f"/admin/users/{user.id}"
    shown = text(client.get(page))
    assert "siem export" in shown and token.prefix in shown and secret not in shown
    listed = text(client.get("/admin/tokens"))
    assert token.prefix in listed and secret not in listed and user.email in listed
    sent = _post(client, f"{page}/send-link", {}, page)
    assert sent.headers["Location"] == page and "fonctionne une seule fois" in text(
        client.get(page)
    )
    assert db_session.scalars(select(OutboxMessage.to_addr)).all() == [user.email]
    assert _post(client, f"{page}/tokens/{foreign.id}/revoke", {}, page).status_code == 404
    revoked = _post(client, f"{page}/tokens/{token.id}/revoke", {"next": "/admin/tokens"}, page)
    assert revoked.headers["Location"] == "/admin/tokens"
    db_session.refresh(token)
    db_session.refresh(foreign)
    assert token.revoked_at == clock.now() and foreign.revoked_at is None
    assert "Révoqué" in text(client.get("/admin/tokens"))
    assert "siem export" not in text(client.get("/admin/tokens?active=1"))
    outside = _post(
        client, f"{page}/tokens/{token.id}/revoke", {"next": "https://evil.example/"}, page
    )
    assert outside.headers["Location"] == page
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == 2


def test_times_are_in_the_cert_time_zone_with_the_zone_named(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    """09:00 UTC is 10:00 in Casablanca on 15 January 2026, as on the incident pages."""
    _admin(client, db_session, clock)
    users = text(client.get("/admin/users"))
    assert "heure de Casablanca" in users and "15 janv. 2026, 10:00" in users
    assert "2026, 09:00" not in users
    audit = text(client.get("/admin/audit?lang=en"))
    assert "Casablanca time" in audit and "Jan 15, 2026, 10:00" in audit and "9:00 AM" not in audit


def test_the_users_list_filters_and_links_each_account(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    admin = _admin(client, db_session, clock)
    ministry = make_org(db_session, clock, name="Ministère de la Justice", name_ar="وزارة العدل")
    user = make_user(db_session, clock, org=ministry, name="Omar Justice")
    page = text(client.get(f"/admin/users?q=justice&organisation={ministry.id}"))
    assert f'href="/admin/users/{user.id}"' in page and admin.email not in page
    assert "وزارة العدل" in text(client.get("/admin/users?lang=ar"))
    assert client.get("/admin/users?role=god").status_code == 422
    assert client.get("/admin/users?status=maybe").status_code == 422
    assert client.get("/admin/users?organisation=abc").status_code == 422
    none = text(client.get("/admin/users?role=lead&lang=fr"))
    assert "Aucun compte ne correspond." in none


def test_the_analyst_home_page_has_shortcuts_instead_of_coming_soon(
    client: FlaskClient, db_session: Session, clock: FrozenClock
) -> None:
    analyst = make_user(
        db_session, clock, role=Role.ANALYST,
        org=make_org(db_session, clock, kind=OrganisationKind.CERT),
    )  # fmt: skip
    login(client, analyst.email, PASSWORD)
    page = text(client.get("/?lang=en"))
    assert "Coming soon" not in page and "open shortly" not in page
    for href in ("/queue?assignee=me&amp;status=open", "/queue?assignee=none&amp;status=open",
                 "/queue?sla=breached&amp;status=open", "/dashboard"):  # fmt: skip
        assert f'href="{href}"' in page, href
    for href in ("/queue?assignee=me&status=open", "/queue?assignee=none&status=open"):
        assert client.get(href).status_code == 200
