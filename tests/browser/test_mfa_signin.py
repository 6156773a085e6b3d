"""Two-factor sign-in in a real browser, against a live server of its own that requires it of
analysts (the product default; the shared ``live_server`` requires it of nobody): an analyst
cannot reach the queue before enrolling; enrols by reading the secret from the page and typing
the current code; keeps the recovery codes shown; signs in again with a code, then with a
recovery code, which works once only. Screenshots of the enrolment page and the code page at
1366 and 390 px in French, English and Arabic (right to left): the QR code shows (inline SVG,
under the CSP), the code field brings up a number pad on a phone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from core.identity.models import Role, User
from core.outbox import OutboxMessage
from tests.browser import conftest
from tests.browser.conftest import LiveServer, browser_or_skip
from tests.dbs import BACKENDS
from tests.kit.factories import PASSWORD
from tests.kit.outbox import opened_context

browser_or_skip(module=True)
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module", params=BACKENDS)
def mfa_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The conftest's live server, but with CERT_MFA_REQUIRED_ROLES at its default."""
    directory = tmp_path_factory.mktemp(f"mfa-live-{request.param}")
    default = {"mfa_required_roles": "analyst,lead,admin"}
    with conftest.serving(request.param, directory, lambda url: default) as server:
        yield server


@pytest.fixture
def context(browser: Browser, mfa_server: LiveServer) -> Iterator[BrowserContext]:
    expect.set_options(timeout=conftest.TIMEOUT_MS)
    context = browser.new_context(
        base_url=mfa_server.url, viewport=WIDTHS["desktop"], locale="fr-FR"
    )
    context.set_default_timeout(conftest.TIMEOUT_MS)
    yield context
    context.close()


def _watched(context: BrowserContext) -> tuple[Page, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
    return page, errors


def _password(page: Page, user: User, *, path: str = "/login") -> None:
    page.goto(path)
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**/login/two-factor**")


def _sign_out(page: Page) -> None:
    page.locator("form[action='/logout'] [type=submit]").first.click()
    page.wait_for_url("**/login")


def _read_secret(page: Page) -> str:
    return page.locator("[data-secret]").inner_text().replace(" ", "")


def _shoot(page: Page, server: LiveServer, name: str) -> Path:
    path = conftest.ARTIFACTS / f"{name}-{server.database.backend}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_an_analyst_enrols_then_signs_in_with_a_code_then_with_a_recovery_code_once(
    context: BrowserContext, mfa_server: LiveServer
) -> None:
    analyst = mfa_server.user(role=Role.ANALYST, name="Nadia Analyste")
    page, errors = _watched(context)
    _password(page, analyst)
    # the queue does not open: the sign-in page sends the pending sign-in back to enrolment
    page.goto("/queue")
    expect(page).to_have_url(f"{mfa_server.url}/login/two-factor/enrol")
    expect(page.locator("[data-qr] svg")).to_be_visible()
    secret = _read_secret(page)
    assert len(secret) == 32
    page.fill("#code", pyotp.TOTP(secret).now())
    page.locator("[data-code-form] [type=submit]").click()
    codes = page.locator("[data-recovery-codes] li")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    assert len(set(recovery)) == 10
    page.locator("main a.btn-primary").click()  # "I have kept them: continue"
    expect(page).to_have_url(f"{mfa_server.url}/queue")
    _sign_out(page)

    # a code of the next step: the enrolling code's step is used (no replay), drift allows it
    _password(page, analyst)
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    page.locator("[data-code-form] [type=submit]").click()
    page.wait_for_url(f"{mfa_server.url}/")
    page.goto("/queue")
    expect(page).to_have_url(f"{mfa_server.url}/queue")
    _sign_out(page)

    _password(page, analyst)
    page.locator("details summary").click()
    page.fill("#recovery_code", recovery[0].upper())
    page.locator("[data-recovery-form] [type=submit]").click()
    page.wait_for_url(f"{mfa_server.url}/")
    expect(page.locator(".vigie-flashes")).to_contain_text("9")
    _sign_out(page)

    _password(page, analyst)
    page.locator("details summary").click()
    page.fill("#recovery_code", recovery[0])
    page.locator("[data-recovery-form] [type=submit]").click()
    expect(page.locator("#recovery_code")).to_have_class("form-control is-invalid")
    expect(page).to_have_url(f"{mfa_server.url}/login/two-factor")
    page.goto("/queue")
    expect(page).not_to_have_url(f"{mfa_server.url}/queue")
    assert [e for e in errors if "422" not in e] == []  # the refused code's answer alone


def _check_code_field(page: Page, width: int) -> None:
    field = page.locator("#code")
    expect(field).to_have_attribute("inputmode", "numeric")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    box = field.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert box["height"] >= 30  # big enough for a finger
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("lang", "direction"), [("fr", "ltr"), ("en", "ltr"), ("ar", "rtl")])
def test_the_enrolment_and_code_pages_on_a_desktop_and_a_phone(
    context: BrowserContext, mfa_server: LiveServer, lang: str, direction: str
) -> None:
    analyst = mfa_server.user(role=Role.ANALYST, locale=lang)
    page, errors = _watched(context)
    page.goto(f"/login?lang={lang}")
    _password(page, analyst, path=f"/login?lang={lang}")
    expect(page.locator("html")).to_have_attribute("dir", direction)
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        qr = page.locator("[data-qr] svg").bounding_box()
        assert qr is not None and qr["width"] >= 150 and qr["x"] >= 0
        assert qr["x"] + qr["width"] <= size["width"]
        _check_code_field(page, size["width"])
        _shoot(page, mfa_server, f"mfa-enrol-{lang}-{name}")
    secret = _read_secret(page)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.locator("[data-code-form] [type=submit]").click()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    _shoot(page, mfa_server, f"mfa-recovery-codes-{lang}-phone")
    page.locator("main a.btn-primary").click()
    _sign_out(page)
    _password(page, analyst)
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        _check_code_field(page, size["width"])
        _shoot(page, mfa_server, f"mfa-code-{lang}-{name}")
    page.locator("details summary").click()
    expect(page.locator("#recovery_code")).to_be_visible()
    _shoot(page, mfa_server, f"mfa-code-recovery-{lang}-phone")
    assert errors == []


def test_a_forgotten_password_link_asks_an_enrolled_analyst_for_a_code(
    context: BrowserContext, mfa_server: LiveServer
) -> None:
    analyst = mfa_server.user(role=Role.ANALYST, locale="ar")
    page, errors = _watched(context)
    _password(page, analyst, path="/login?lang=ar")
    secret = _read_secret(page)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.locator("[data-code-form] [type=submit]").click()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    page.locator("main a.btn-primary").click()
    _sign_out(page)
    page.goto("/login")
    page.locator("a[href='/password/forgot']").click()
    page.fill("#email", analyst.email)
    page.locator("main form [type=submit]").click()
    with mfa_server.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.to_addr == analyst.email)
        link = str(opened_context(session.scalars(query).one(), conftest.SECRET_KEY)["link"])
    page.goto(urlsplit(link).path)
    page.set_viewport_size(WIDTHS["phone"])
    page.fill("#new_password", "Seven quiet harbours at dusk")
    page.fill("#confirm_password", "Seven quiet harbours at dusk")
    page.fill("#code", "000000")
    page.locator("main form [type=submit]").click()
    expect(page.locator("#code")).to_have_class("form-control is-invalid")
    _shoot(page, mfa_server, "mfa-reset-code-ar-phone")
    page.fill("#new_password", "Seven quiet harbours at dusk")
    page.fill("#confirm_password", "Seven quiet harbours at dusk")
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    page.locator("main form [type=submit]").click()
    page.wait_for_url("**/login")
    assert [e for e in errors if "422" not in e] == []
