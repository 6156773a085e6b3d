"""The tables of sessions and API tokens on a 390 px phone, in French, English and Arabic: on
/account and on the administrator's page of a user they fit their card (each row stacked as a
labelled list) and the page never scrolls sideways; at 1366 px they stay tables with their
header row; screenshots of each."""

from __future__ import annotations

from typing import Any

import pytest

from core.auth import sessions
from core.identity.models import Role, User
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in
from tests.kit.factories import make_token

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
)


def _with_sessions_and_tokens(live_server: LiveServer, user: User) -> None:
    """Two other open sessions (an IPv6 address, a long browser name) and two tokens."""
    with live_server.session() as session:
        user = session.merge(user)
        for ip in ("2001:db8:4a7f:1200:8d3c:91ff:fe21:7b6a", "192.0.2.181"):
            sessions.start_session(session, user, ip=ip, user_agent=AGENT, clock=live_server.clock)
        make_token(session, live_server.clock, user, label="SIEM — collecteur Splunk de la DGSN")
        make_token(session, live_server.clock, user, label="script")
        session.commit()


def _fits(page: Page, table: str, width: int = PHONE["width"]) -> None:
    """No sideways scroll of the page, and every cell of ``table`` inside its scroll box."""
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"the page is {page_width}px wide"
    frame = page.locator(table).locator("xpath=..").bounding_box()  # the scroll box
    cells = page.locator(f"{table} td")
    assert frame is not None and cells.count() > 0
    for box in (cells.nth(i).bounding_box() for i in range(cells.count())):
        assert box is not None and box["x"] >= frame["x"] - 0.5
        assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 0.5


def _display(page: Page, table: str) -> str:
    """How the first cell of a table is laid out: ``table-cell``, or ``grid`` when stacked."""
    cell = page.locator(f"[aria-labelledby={table}-title] td").first
    return str(cell.evaluate("td => getComputedStyle(td).display"))


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_my_sessions_and_tokens_fit_a_phone(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str
) -> None:
    page.set_viewport_size(PHONE)
    user = live_server.user(locale=lang, name="Leila Berrada")
    _with_sessions_and_tokens(live_server, user)
    sign_in(page, user)
    page.goto("/account")
    expect(page.locator("#sessions-title")).to_be_visible()
    _fits(page, "[aria-labelledby=sessions-title] table")
    _fits(page, "[aria-labelledby=tokens-title] table")
    # each stacked cell is named by its column: the reader knows what a value is
    label = page.locator("[aria-labelledby=sessions-title] td").first.get_attribute("data-label")
    assert label and _display(page, "sessions") == _display(page, "tokens") == "grid"
    shoot(page, f"account-tables-{lang}-390")
    assert watch.dialogs == [] and watch.console_errors == []


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_a_users_tokens_fit_a_phone_on_the_admin_page(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str
) -> None:
    page.set_viewport_size(PHONE)
    admin = live_server.user(role=Role.ADMIN, locale=lang, name="Admin")
    user = live_server.user(locale=lang, name="Leila Berrada")
    _with_sessions_and_tokens(live_server, user)
    sign_in(page, admin)
    page.goto(f"/admin/users/{user.id}")
    expect(page.locator("#tokens-title")).to_be_visible()
    _fits(page, "[aria-labelledby=tokens-title] table")
    shoot(page, f"admin-user-tokens-{lang}-390")
    assert watch.dialogs == [] and watch.console_errors == []


def test_at_1366_px_sessions_stack_in_their_half_card_and_tokens_stay_a_table(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    user = live_server.user(locale="ar", name="Leila Berrada")
    _with_sessions_and_tokens(live_server, user)
    sign_in(page, user)
    page.goto("/account")
    expect(page.locator("[aria-labelledby=tokens-title] thead th").first).to_be_visible()
    assert _display(page, "tokens") == "table-cell"  # the full width: a table
    assert _display(page, "sessions") == "grid"  # half a page: stacked
    _fits(page, "[aria-labelledby=sessions-title] table", width=1366)
    shoot(page, "account-tables-ar-1366")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"the page is {width}px wide"
    assert watch.dialogs == [] and watch.console_errors == []
