"""Single sign-on in Chromium: the sign-in page's "Sign in with ID Gouv" button (screenshots at
1366 and 390 px in French, English and Arabic), a whole sign-in through it against the loopback
OpenID Connect provider, a refusal shown on the sign-in page, and signing out at the provider
(the sign-out form's redirect there is allowed by the page's Content-Security-Policy).

A live server of its own (SQLite): single sign-on needs ``CERT_BASE_URL`` to be the server's
address, known once it listens; the flow does not depend on the database (the web tests prove it
on both)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import SystemClock
from core.identity.models import Organisation, OrganisationKind, Role, User
from tests.browser.conftest import LiveServer, browser_or_skip, serving
from tests.kit.factories import PASSWORD, make_org, make_user
from tests.kit.oidc_provider import OidcProvider, OidcUser, running_oidc_provider

browser_or_skip(module=True)
from playwright.sync_api import Browser, Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

LABELS = {
    "fr": "Se connecter avec ID Gouv",
    "en": "Sign in with ID Gouv",
    "ar": "تسجيل الدخول عبر ID Gouv",
}


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with running_oidc_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def vigie(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The application with single sign-on against ``provider``, served on 127.0.0.1."""
    directory = tmp_path_factory.mktemp("live-sso")
    secret = directory / "oidc-secret"
    secret.write_text(provider.client_secret, encoding="utf-8")

    def settings(url: str) -> dict[str, Any]:
        provider.register_redirect(url + "/login/sso/callback")
        provider.register_redirect(url + "/login")
        return {
            "base_url": url,
            "mfa_required_roles": "",
            "oidc_issuer": provider.issuer,
            "oidc_client_id": provider.client_id,
            "oidc_client_secret_file": secret,
            "oidc_role_map": "cert-analysts=analyst@macert",
            "oidc_provider_name": "ID Gouv",
        }

    with serving("sqlite", directory, settings) as server:
        with server.session() as session:
            make_org(session, SystemClock(), slug="macert", kind=OrganisationKind.CERT)
            session.commit()
        yield server


@pytest.fixture
def page(browser: Browser, vigie: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=vigie.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _shoot(page: Page, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_sign_in_page_offers_the_provider(
    page: Page, artifacts: Path, lang: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/login?lang={lang}")
    button = page.get_by_role("link", name=LABELS[lang])
    expect(button).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    box, form = button.bounding_box(), page.locator("main form").bounding_box()
    assert box is not None and form is not None and box["y"] < form["y"]  # above the password form
    assert abs(box["width"] - form["width"]) < 1  # as wide as the form
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shoot(page, artifacts, f"sso-login-{lang}-{width}")


def test_a_whole_sign_in_and_out_through_the_provider(
    page: Page, provider: OidcProvider, artifacts: Path
) -> None:
    provider.sign_in_as(
        OidcUser(
            "idp-501",
            "salma@cert.gov.ma",
            name="Salma Idrissi",
            claims={"roles": ["cert-analysts"]},
        )
    )
    page.goto("/login?lang=fr")
    page.get_by_role("link", name=LABELS["fr"]).click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.locator(".vigie-flashes")).to_contain_text("Bienvenue, Salma Idrissi.")
    _shoot(page, artifacts, "sso-signed-in-fr")
    before = len(provider.logouts)
    page.locator("form[action='/logout'] [type=submit]").first.click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/login") or "/login?" in url)
    assert len(provider.logouts) == before + 1  # the provider's session ended too
    assert provider.logouts[-1]["client_id"] == provider.client_id
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))  # signed out of Vigie


REFUSALS = {
    "ar": "لا يمنحك حسابك لدى ID Gouv الوصول إلى Vigie",
    "fr": "Votre compte ID Gouv ne donne pas accès à Vigie",
}


@pytest.mark.parametrize(("lang", "width"), [("ar", 1366), ("fr", 390)])
def test_a_refusal_is_shown_on_the_sign_in_page(
    page: Page, provider: OidcProvider, artifacts: Path, lang: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    provider.sign_in_as(OidcUser("idp-502", "intrus@example.ma", claims={"roles": ["students"]}))
    page.goto(f"/login?lang={lang}")
    page.get_by_role("link", name=LABELS[lang]).click()
    page.wait_for_url(lambda url: "/login" in url and "sso" not in url)
    expect(page.locator(".vigie-flashes")).to_contain_text(REFUSALS[lang])
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shoot(page, artifacts, f"sso-refused-{lang}-{width}")


@pytest.mark.parametrize(("lang", "width"), [("fr", 1366), ("ar", 390)])
def test_the_administrator_sees_the_link_to_the_provider(
    page: Page, vigie: LiveServer, provider: OidcProvider, artifacts: Path, lang: str, width: int
) -> None:
    subject = f"idp-admin-view-{lang}"
    provider.sign_in_as(
        OidcUser(
            subject, f"{subject}@cert.gov.ma", name="Omar Lié", claims={"roles": ["cert-analysts"]}
        )
    )
    page.goto(f"/login?lang={lang}")
    page.locator("a.vigie-sso").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.context.clear_cookies()  # another person at this browser
    with vigie.session() as session:
        macert = session.scalars(select(Organisation).where(Organisation.slug == "macert")).one()
        admin = make_user(session, SystemClock(), role=Role.ADMIN, org=macert, locale=lang)
        linked = session.scalars(select(User).where(User.oidc_subject == subject)).one()
        session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/login?lang={lang}")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"/admin/users/{linked.id}")
    expect(page.locator("[data-sso-link]")).to_contain_text("ID Gouv")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shoot(page, artifacts, f"sso-admin-user-{lang}-{width}")
