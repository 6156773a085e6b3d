"""The web shell: home page by role, account, API tokens, admin lists, error pages, CSP rules."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.audit import AuditAction, AuditEntry
from core.clock import FrozenClock
from core.identity.models import ApiToken, Role
from tests.kit.factories import SYSTEM, make_org, make_token, make_user
from tests.kit.web import csrf_token, text
from tests.kit.world import World


class ProbeAction(AuditAction):
    TICK = "probe.tick"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
EXTERNAL_ASSET = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//", re.I)


def test_reporter_home_lists_only_what_exists(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.reporter)
    page = text(client.get("/"))
    assert "Ce que vous pouvez faire dès maintenant" in page
    assert "Signaler un incident" in page  # announced, not linked: the page comes next
    assert 'href="/account"' in page
    assert "/admin/" not in page


def test_admin_home_and_navbar_link_the_admin_pages(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.admin)
    page = text(client.get("/"))
    for href in ("/admin/audit", "/admin/users", "/admin/organisations", "/account"):
        assert f'href="{href}"' in page
    assert "Journal d’audit" in page and "Tableau de bord" in page


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/users", "/admin/organisations"])
@pytest.mark.parametrize("role", [Role.REPORTER, Role.ANALYST, Role.LEAD])
def test_admin_pages_are_forbidden_below_admin(
    client: FlaskClient, db_session: Session, clock: FrozenClock, role: str, path: str, world: World
) -> None:
    world.sign_in(client, world.person(role))
    response = client.get(path)
    assert response.status_code == 403
    assert "Accès refusé" in text(response)
    json_response = client.get(path, headers={"Accept": "application/json"})
    assert json_response.status_code == 403
    assert json_response.get_json()["error"]["code"] == "forbidden"


def test_admin_reads_the_audit_log_newest_first_with_filters(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    admin = world.admin
    world.sign_in(client, admin)
    make_user(db_session, clock, email="filtered@example.gov.ma")
    page = text(client.get("/admin/audit"))
    # newest first: the user created after the sign-in, the sign-in, the creation of the admin
    assert page.index("filtered@example.gov.ma") < page.index("auth.login")
    assert page.index("auth.login") < page.index(f'"{admin.email}"')
    filtered = text(client.get("/admin/audit?action=user.create&object_type=user"))
    assert "filtered@example.gov.ma" in filtered and "auth.login" not in filtered
    assert "Aucune entrée ne correspond." in text(client.get("/admin/audit?action=nothing.here"))


def test_audit_log_pages_by_keyset(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.admin)
    for n in range(55):
        audit.record(db_session, SYSTEM, ProbeAction.TICK, "probe", n, clock=clock)
    db_session.flush()
    first = text(client.get("/admin/audit?action=probe.tick"))
    assert first.count("probe:") == 50 and "probe:54" in first and "probe:4<" not in first
    older = re.search(r'href="(/admin/audit\?[^"]*before=(\d+)[^"]*)"', first)
    assert older, "no link to older entries"
    second = text(client.get(older.group(1).replace("&amp;", "&")))
    assert second.count("probe:") == 5 and "probe:0<" in second and "probe:5<" not in second
    assert "Entrées plus anciennes" not in second


def test_admin_lists_users_and_organisations(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.admin)
    org = make_org(
        db_session, clock, slug="min-sante", name="Ministère de la Santé", name_ar="وزارة الصحة"
    )
    make_user(db_session, clock, email="rssi@sante.gov.ma", org=org)
    users = text(client.get("/admin/users"))
    assert "rssi@sante.gov.ma" in users and "Déclarant" in users
    orgs = text(client.get("/admin/organisations"))
    assert "Ministère de la Santé" in orgs and "وزارة الصحة" in orgs and "Ministère" in orgs
    assert client.get("/admin/users?page=99").status_code == 200


def test_account_page_changes_the_language_and_audits_it(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    user = world.reporter
    world.sign_in(client, user)
    token = csrf_token(text(client.get("/account")))
    response = client.post("/account/locale", data={"csrf_token": token, "locale": "en"})
    assert response.headers["Location"] == "/account"
    page = text(client.get("/account"))
    assert '<html lang="en"' in page and "Your language preference has been saved." in page
    db_session.refresh(user)
    assert user.locale == "en"
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locale")).one()
    assert (entry.before, entry.after) == ({"locale": "fr"}, {"locale": "en"})
    bad = client.post("/account/locale", data={"csrf_token": token, "locale": "xx"})
    assert bad.status_code == 422


def test_a_new_token_is_shown_once_and_can_be_revoked(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.analyst)
    token = csrf_token(text(client.get("/account")))
    created = client.post("/account/tokens", data={"csrf_token": token, "label": "misp sync"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(vig_[^"]+)"', text(created))
    assert secret, "the token is not on the page"
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code
        == 200
    )
    account = text(client.get("/account"))
    assert "misp sync" in account and secret.group(1) not in account
    row = db_session.scalars(select(ApiToken).where(ApiToken.label == "misp sync")).one()
    revoked = client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": token})
    assert revoked.headers["Location"] == "/account"
    db_session.refresh(row)
    assert row.revoked_at == clock.now()
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code
        == 401
    )


def test_an_empty_token_label_is_refused(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.reporter)
    token = csrf_token(text(client.get("/account")))
    response = client.post("/account/tokens", data={"csrf_token": token, "label": ""})
    assert response.status_code == 422 and "is-invalid" in text(response)


def test_nobody_revokes_another_users_token(
    client: FlaskClient, db_session: Session, clock: FrozenClock, world: World
) -> None:
    world.sign_in(client, world.reporter)
    other_token, _secret = make_token(db_session, clock, make_user(db_session, clock))
    token = csrf_token(text(client.get("/account")))
    response = client.post(f"/account/tokens/{other_token.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    db_session.refresh(other_token)
    assert other_token.revoked_at is None


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_no_inline_script_style_or_handler_in_any_page(
    client: FlaskClient, db_session: Session, clock: FrozenClock, lang: str, world: World
) -> None:
    pages = [text(client.get(f"/login?lang={lang}")), text(client.get("/missing"))]
    world.sign_in(client, world.admin)
    make_token(db_session, clock, make_user(db_session, clock))
    for path in ("/", "/account", "/admin/audit", "/admin/users", "/admin/organisations", "/nope"):
        pages.append(text(client.get(path)))
    token = csrf_token(pages[-1])
    pages.append(text(client.post("/account/tokens", data={"csrf_token": token, "label": "x"})))
    for page in pages:
        assert "<html" in page
        assert not INLINE_SCRIPT.search(page), INLINE_SCRIPT.search(page)
        assert not INLINE_STYLE.search(page), INLINE_STYLE.search(page)
        assert not INLINE_HANDLER.search(page), INLINE_HANDLER.search(page)
        assert not EXTERNAL_ASSET.search(page), EXTERNAL_ASSET.search(page)  # no CDN: all local


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/nope", 404, "Page introuvable"),
        ("PUT", "/login", 405, "Méthode non autorisée"),
        ("POST", "/login", 400, "Requête incorrecte"),
    ],
)
def test_error_pages_in_html_and_json(
    client: FlaskClient, method: str, path: str, status: int, title: str
) -> None:
    html = client.open(path, method=method)
    assert html.status_code == status and html.mimetype == "text/html"
    assert title in text(html) and 'class="navbar' in text(html)
    as_json = client.open(path, method=method, headers={"Accept": "application/json"})
    assert as_json.status_code == status
    assert set(as_json.get_json()["error"]) == {"code", "message", "fields"}


def test_too_large_and_internal_errors_have_pages(app: Flask, client: FlaskClient) -> None:
    def boom() -> str:
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    app.config["MAX_CONTENT_LENGTH"] = 10
    response = client.get("/boom")
    assert response.status_code == 500 and "Erreur interne" in text(response)
    assert "secret detail" not in text(response)
    too_large = client.post("/login", data={"csrf_token": "x" * 100})
    assert too_large.status_code == 413 and "Requête trop volumineuse" in text(too_large)
