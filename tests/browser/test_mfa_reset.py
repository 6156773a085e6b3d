"""An administrator resets an analyst's second factor in a real browser: the analyst, signed in
in a browser of their own, lands on the sign-in page at their next page load. The account page's
two-factor section and the administrator's page of the user, at 1366 px and on a 390 px phone,
in French, English and Arabic (right to left): no sideways scroll; screenshots of each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.auth import mfa
from core.identity.authz import Actor
from core.identity.models import Role, User
from core.outbox import OutboxMessage
from tests.browser.conftest import SECRET_KEY, LiveServer, Watch, browser_or_skip, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Browser, Dialog, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}


def _enrol(live_server: LiveServer, user: User) -> None:
    """Enrol ``user`` through the kernel (the enrolment page is another piece's)."""
    seal, clock = mfa.sealer(SECRET_KEY), live_server.clock
    with live_server.session() as session:
        user = session.merge(user)
        secret = mfa.start_enrolment(session, user, seal=seal)
        code = mfa.current_code(secret, clock.now())
        mfa.confirm_enrolment(session, Actor.for_user(user), user, code, seal=seal, clock=clock)
        session.commit()


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width}px wide"  # type: ignore[index]


def _shots(page: Page, shoot: Any, artifacts: Path, name: str, part: str | None = None) -> None:
    """The page (or ``part`` of it) at each size."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        _no_sideways_scroll(page)
        if part is None:
            shoot(page, f"{name}-{size}")
        else:
            path = artifacts / f"{name}-{size}.png"
            page.locator(part).screenshot(path=str(path))
            print(f"screenshot: {path}")
    page.set_viewport_size(SIZES["1366"])


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_an_admin_reset_ends_the_analysts_sessions(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    watch: Watch,
    shoot: Any,
    artifacts: Path,
    lang: str,
) -> None:
    if lang != "fr" and live_server.database.backend != "sqlite":
        pytest.skip("the languages on SQLite; a French smoke on PostgreSQL")
    analyst = live_server.user(role=Role.ANALYST, locale=lang, name="Amal Benali")
    admin = live_server.user(role=Role.ADMIN, locale=lang, name="Admin")
    sign_in(page, analyst)
    _enrol(live_server, analyst)
    page.goto("/account")
    expect(page.locator("[data-mfa-status=on]")).to_be_visible()
    expect(page.locator("[data-security-events] tr[data-action='mfa.enrol']")).to_have_count(1)
    if lang == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    _shots(
        page, shoot, artifacts, f"mfa-account-{lang}-{live_server.database.backend}", "#two-factor"
    )

    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    admin_page = context.new_page()
    questions: list[str] = []

    def accept(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    admin_page.on("dialog", accept)
    try:
        sign_in(admin_page, admin)
        admin_page.goto(f"/admin/users/{analyst.id}")
        expect(admin_page.locator("[data-mfa-status]")).to_be_visible()
        _shots(admin_page, shoot, artifacts, f"mfa-admin-user-{lang}")
        admin_page.locator("form[action$='/mfa-reset'] button").click()
        expect(admin_page.locator(".alert-success")).to_be_visible()
        assert len(questions) == 1  # the confirmation was asked
        expect(admin_page.locator("form[action$='/mfa-reset']")).to_have_count(0)
        _shots(admin_page, shoot, artifacts, f"mfa-admin-user-reset-{lang}")
    finally:
        context.close()

    page.reload()  # the analyst's next page load
    expect(page).to_have_url(re.compile(r"/login\b"))
    expect(page.locator("#password")).to_be_visible()
    with live_server.session() as session:
        mailed = session.scalars(
            select(OutboxMessage.language).where(OutboxMessage.to_addr == analyst.email)
        ).all()
        assert mailed == [lang]
        assert not session.get(User, analyst.id).mfa_enrolled  # type: ignore[union-attr]
    assert watch.dialogs == [] and watch.console_errors == []
