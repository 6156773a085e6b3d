"""An analyst in a real browser: filter the queue (search, priority, assignee) with bookmarkable
URLs, open an incident from it; the dashboard's charts drawn under the CSP; screenshots of both in
French, English and Arabic."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from core.identity.models import Role
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, languages, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser


def rows(page: Page) -> Any:
    return page.locator(".vigie-queue tbody tr")


def test_an_analyst_filters_the_queue_and_opens_an_incident(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    word = f"vigie{secrets.token_hex(4)}"  # only this test's incidents carry it
    reporter = live_server.user()
    title = f"Ransomware {word} on the mail server"
    urgent = live_server.incident(reporter, title=title, impact="critical", urgency="critical")
    minor = live_server.incident(reporter, title=f"Spam wave {word}", impact="low", urgency="low")
    live_server.incident(reporter, title="Unrelated defacement")
    analyst = live_server.user(role=Role.ANALYST, name="Samir Analyst")
    sign_in(page, analyst)

    page.goto("/queue")
    page.fill("#q", word)
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page).to_have_url(re.compile(f"q={word}"))
    expect(rows(page)).to_have_count(2)
    expect(page.locator(".vigie-queue tbody")).to_contain_text(urgent.reference)
    expect(page.locator(".vigie-queue tbody")).to_contain_text(minor.reference)

    priority = page.locator("details", has=page.locator("summary", has_text="Priority"))
    priority.locator("summary").click()
    page.get_by_label("P1", exact=True).check()
    # the open menu may cover the bar's Filter button (it wraps at this width): its own Apply
    priority.get_by_role("button", name="Apply", exact=True).click()
    expect(page).to_have_url(re.compile("priority=P1"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text(urgent.reference)
    bookmark = page.url
    shoot(page, "queue-en")

    page.get_by_role("link", name=urgent.reference).click()
    expect(page).to_have_url(re.compile(f"/incidents/{urgent.reference}$"))
    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator(".vigie-file-facts")).to_contain_text("Samir Analyst")

    page.goto(bookmark)  # the URL is the filter: it can be bookmarked and shared
    expect(rows(page)).to_have_count(1)
    page.select_option("#filter-assignee", "me")
    priority.locator("summary").click()
    page.get_by_label("P1", exact=True).uncheck()
    priority.get_by_role("button", name="Apply", exact=True).click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Samir Analyst")
    for lang in ("fr", "ar"):
        page.goto(f"{bookmark}&lang={lang}")
        expect(rows(page)).to_have_count(1)
        shoot(page, f"queue-{lang}")
    assert watch.console_errors == []


def test_a_stored_xss_payload_stays_inert_in_the_queue(
    page: Page, live_server: LiveServer, watch: Watch
) -> None:
    word = f"vigie{secrets.token_hex(4)}"
    payload = f"<img src=x onerror=window.__xss=1><script>window.__xss=1</script> {word}"
    live_server.incident(live_server.user(), title=payload, description=payload)
    sign_in(page, live_server.user(role=Role.ANALYST))
    page.goto(f"/queue?q={word}")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text(payload)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert watch.dialogs == []
    assert page.locator("main img[src=x], main script:not([src])").count() == 0


def test_the_dashboard_draws_its_charts_in_each_language(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    reporter = live_server.user()
    for category in ("malicious-code", "fraud", "availability"):
        live_server.incident(reporter, title=f"Dashboard {category}", category=category)
    sign_in(page, live_server.user(role=Role.LEAD))
    for lang, direction in languages(live_server):
        page.goto(f"/dashboard?lang={lang}")
        expect(page.locator("html")).to_have_attribute("dir", direction)
        charts = page.locator("main figure svg")
        expect(charts.first).to_be_visible()
        assert charts.count() >= 3
        box = charts.first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50
        shoot(page, f"dashboard-{lang}")
    assert watch.console_errors == []  # no CSP violation (inline style or script) in the charts
