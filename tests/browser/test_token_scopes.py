"""Choosing a token's scope on /account at 1366 px in English and Arabic (right to left): read
only is chosen first, the scope is told on the token's page and listed in the table; screenshots
of the tokens part and of the new token's page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.identity.models import ApiToken
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in
from tests.kit.factories import make_token

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

WIDE = {"width": 1366, "height": 900}
SCOPES = {"en": ("Read only", "Read and write"), "ar": ("قراءة فقط", "قراءة وكتابة")}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_token_of_the_chosen_scope_at_1366(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str
) -> None:
    page.set_viewport_size(WIDE)
    user = live_server.user(locale=lang, name="Leila Berrada")
    with live_server.session() as session:
        owner = session.merge(user)
        make_token(
            session, live_server.clock, owner, label="SIEM — collecteur Splunk", scope="read"
        )
        make_token(session, live_server.clock, owner, label="ticketing", scope="write")
        session.commit()
    sign_in(page, user)
    page.goto("/account")
    tokens = page.locator("section[aria-labelledby=tokens-title]")
    read_label, write_label = SCOPES[lang]
    expect(tokens.locator("tbody")).to_contain_text(read_label)
    expect(tokens.locator("tbody")).to_contain_text(write_label)
    expect(tokens.locator("input[name=scope][value=read]")).to_be_checked()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDE["width"], f"the page is {width}px wide"
    tokens.scroll_into_view_if_needed()
    full = shoot(page, f"token-scopes-account-{lang}-1366")
    tokens.screenshot(path=str(full.with_suffix(".section.png")))  # the tokens part alone
    tokens.locator("#label").fill(f"rapport quotidien {lang}")
    tokens.locator("input[name=scope][value=write]").check()
    tokens.locator(".vigie-token-form [type=submit]").click()
    expect(page.locator(".vigie-token-scope")).to_be_visible()
    assert page.locator("#new-token").input_value().startswith("vig_")
    shoot(page, f"token-scopes-created-{lang}-1366")
    with live_server.session() as session:
        made = session.scalars(
            select(ApiToken).where(ApiToken.label == f"rapport quotidien {lang}")
        ).one()
        assert made.scope == "write"
    assert watch.dialogs == [] and watch.console_errors == []
