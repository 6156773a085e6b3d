"""The dashboard in a real browser, at 1366 × 768 and on a 390 px phone, in French, English and
Arabic: count axes with whole ticks, a long organisation name wrapped (never cut without its
full name at hand), and a bar that opens the queue filtered on what it counts."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from core.identity.models import Role
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, languages, sign_in
from tests.kit.factories import make_org

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

LONG = "Ministère de l'Économie, des Finances et de la Réforme de l'Administration"
LONG_AR = "وزارة الاقتصاد والمالية وإصلاح الإدارة"
COUNT_CHARTS = ("over-time", "open", "by-org", "by-sector")
FRACTION = re.compile(r"^\d+[.,٫]\d+$")


def test_the_dashboard_is_readable_and_each_bar_opens_the_queue(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    tag = secrets.token_hex(3)
    with live_server.session() as session:
        org = make_org(
            session, live_server.clock, slug=f"economie-{tag}", name=f"{LONG} {tag}",
            name_ar=f"{LONG_AR} {tag}", sector="finance",
        )  # fmt: skip
        session.commit()
    reporter = live_server.user(org=org)
    for category in ("fraud", "fraud", "availability"):
        live_server.incident(reporter, title=f"Dashboard {category} {tag}", category=category)
    sign_in(page, live_server.user(role=Role.LEAD))

    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for lang, direction in languages(live_server):
            page.goto(f"/dashboard?lang={lang}")
            expect(page.locator("html")).to_have_attribute("dir", direction)
            for ident in COUNT_CHARTS:  # whole ticks on count axes: no "0 0 0 0,1"
                texts = page.locator(f"svg[aria-labelledby^='{ident}-'] text").all_text_contents()
                assert texts and not [t for t in texts if FRACTION.match(t.strip())], texts
            # the long name: wrapped on several lines, its full text in the tooltip and the table
            label = page.locator("svg[aria-labelledby^='by-org-'] text", has_text=tag).first
            assert label.locator("tspan").count() >= 2
            full = f"{LONG_AR if lang == 'ar' else LONG} {tag}"
            assert full in (label.text_content() or "")
            table = page.locator("#by-org-heading ~ details")
            table.locator("summary").click()
            expect(table.get_by_role("link", name=full)).to_be_visible()
            no_horizontal_scroll = page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth + 1"
            )
            assert no_horizontal_scroll
            shoot(page, f"dashboard-links-{lang}-{width}")

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/dashboard?lang=en")
    bar = page.locator(f"svg[aria-labelledby^='by-org-'] a[aria-label*='{tag}']")
    expect(bar).to_have_attribute("aria-label", re.compile(r": 3$"))
    bar.click()
    expect(page).to_have_url(re.compile(rf"/queue\?.*organisation=economie-{tag}"))
    expect(page.locator(".vigie-queue tbody tr")).to_have_count(3)
    shoot(page, "dashboard-link-queue-en")

    page.goto("/dashboard?lang=en")
    fraud = page.locator("svg[aria-labelledby^='over-time-'] a[aria-label*='Fraud']").last
    expect(fraud).to_have_attribute("aria-label", re.compile(r": [1-9]\d*$"))
    shown = int((fraud.get_attribute("aria-label") or "").rsplit(": ", 1)[1])
    fraud.click()
    expect(page).to_have_url(re.compile(r"/queue\?.*category=fraud"))
    expect(page.locator(".vigie-queue tbody tr")).to_have_count(shown)
    assert watch.console_errors == []
