"""An administrator in a real browser creates an organisation, registers a domain, then creates a
user in it who is e-mailed a link to choose a password — in French, English and Arabic, at
1366 × 768 and on a 390 px phone; the pages never scroll sideways; screenshots of each step."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from core.identity.models import Organisation, Role, User
from core.outbox import OutboxMessage
from tests.browser.conftest import (
    SECRET_KEY,
    LiveServer,
    Watch,
    browser_or_skip,
    no_sideways_scroll,
    sign_in,
)
from tests.kit.outbox import opened_context

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
CREATED = {
    "fr": ("L’organisme", "a été créé", "un lien pour choisir le mot de passe a été envoyé"),
    "en": ("The organisation", "has been created", "a link to choose the password has been"),
    "ar": ("أُنشئت الهيئة", "أُنشئت الهيئة", "وأُرسل رابط لاختيار كلمة المرور"),
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_an_admin_creates_an_organisation_and_a_user(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    admin = live_server.user(role=Role.ADMIN, locale=lang, name="Salma Admin")
    slug = f"min-test-{lang}-{size}"
    sign_in(page, admin)

    page.goto("/admin/organisations")
    page.locator("main a[href='/admin/organisations/new']").click()
    page.fill("#slug", slug)
    page.fill("#name", "Ministère de l’Équipement et de l’Eau")
    page.fill("#name_ar", "وزارة التجهيز والماء")
    page.select_option("#kind", "ministry")
    page.fill("#sector", "infrastructure")
    page.fill("#contact_emails", f"soc@{slug}.gov.ma\nrssi@{slug}.gov.ma")
    page.fill("#phone", "+212 5 37 00 00 00")
    no_sideways_scroll(page)
    shoot(page, f"admin-org-new-{lang}-{size}")
    page.locator("main form [type=submit]").click()
    expect(page.locator(".vigie-flashes")).to_contain_text(CREATED[lang][0])
    name = "وزارة التجهيز والماء" if lang == "ar" else "Ministère de l’Équipement et de l’Eau"
    expect(page.locator("main h1")).to_have_text(name)  # in the page's script

    page.fill("#value", f"{slug}.gov.ma")
    page.locator("#assets form [type=submit]").click()
    expect(page.locator("#assets table")).to_contain_text(f"{slug}.gov.ma")
    no_sideways_scroll(page)
    shoot(page, f"admin-org-page-{lang}-{size}")

    with live_server.session() as session:
        org = session.scalars(select(Organisation).where(Organisation.slug == slug)).one()
    # the users' page through the bar's Administration menu (collapsed behind the toggler on a
    # phone): the menu opens (Bootstrap's script, no CSP refusal) and its link leads there
    if size == "390":
        page.locator(".navbar-toggler").click()
        # the bar opened (its collapse animation over): a click on the menu while it still
        # animates is lost, which a loaded machine made visible
        expect(page.locator("#vigie-nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    page.locator("#vigie-nav .dropdown-toggle").click()
    users = page.locator("#vigie-nav .dropdown-menu a[href='/admin/users']")
    expect(users).to_be_visible()
    users.click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    page.locator("main a[href='/admin/users/new']").click()
    email = f"rssi@{slug}.gov.ma"
    page.fill("#email", email)
    page.fill("#name", "Hassan Berrada")
    page.select_option("#organisation", str(org.id))
    page.select_option("#locale", lang)
    page.fill("#email", "not an address")
    page.locator("main form [type=submit]").click()  # refused, explained under the field
    expect(page.locator("#email.is-invalid")).to_be_visible()
    page.fill("#email", email)
    page.select_option("#organisation", str(org.id))
    no_sideways_scroll(page)
    shoot(page, f"admin-user-new-{lang}-{size}")
    page.locator("main form [type=submit]").click()
    expect(page.locator(".vigie-flashes")).to_contain_text(CREATED[lang][2])
    expect(page.locator("main h1")).to_have_text("Hassan Berrada")
    no_sideways_scroll(page)
    shoot(page, f"admin-user-page-{lang}-{size}")

    page.goto("/admin/users")
    expect(page.locator("main table")).to_contain_text(email)
    no_sideways_scroll(page)
    shoot(page, f"admin-users-{lang}-{size}")
    with live_server.session() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == email)).one()
        assert user.password_hash is None and user.locale == lang
        assert mail.language == lang
    # the refused form's 422 is the only thing the console may report (no CSP violation)
    assert watch.dialogs == [] and [e for e in watch.console_errors if "422" not in e] == []


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_user_who_forgot_the_password_sets_a_new_one(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str
) -> None:
    page.set_viewport_size(SIZES["390"])
    user = live_server.user(locale=lang, name="Leila Berrada")
    page.goto(f"/login?lang={lang}")
    page.locator("main a[href='/password/forgot']").click()
    page.fill("#email", user.email)
    page.locator("main form [type=submit]").click()
    expect(page.locator("main .alert-success")).to_be_visible()
    shoot(page, f"password-forgot-{lang}-390")
    with live_server.session() as session:
        mail = session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_addr == user.email)
        ).one()
        assert mail.language == lang
        link = str(opened_context(mail, SECRET_KEY)["link"])
    page.goto(urlsplit(link).path)  # CERT_BASE_URL's host is not the test server's
    page.fill("#new_password", "Seven quiet harbours at dusk")
    page.fill("#confirm_password", "Seven quiet harbours at dusk")
    no_sideways_scroll(page)
    shoot(page, f"password-reset-{lang}-390")
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**/login")
    sign_in(page, user, password="Seven quiet harbours at dusk")
    expect(page.locator("main h1")).to_contain_text("Leila Berrada")
    assert watch.dialogs == [] and watch.console_errors == []
