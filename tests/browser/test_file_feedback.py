"""The incident file says what each action did, where it was taken, in the reader's language:
status, priority and assignee changed from the header, a Markdown comment, an invalid observable;
the state bar (status, priority, assignee, TLP) stays in sight; French, English and Arabic at
1366 × 768 and on a 390 px phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.i18n import translations
from core.identity.models import Role
from incidents.rules import labels
from tests.browser.conftest import LiveServer, browser_or_skip, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Browser, Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

COMMENT = "**Important**: isolate _now_\n- server `fs01`\n- [runbook](https://cert.example/rb)"
XSS = "<img src=x onerror=window.__xss=1> [x](javascript:window.__xss=1)"


def said(lang: str, msgid: str, **params: str) -> str:
    """``msgid`` as the page says it in ``lang`` (the catalogues the app uses)."""
    gettext = translations(lang).gettext
    return gettext(msgid) % params if params else gettext(msgid)


def notice(page: Page, place: str, role: str = "status") -> Locator:
    return page.locator(
        f'#{place} [role="{role}"].vigie-notice, [data-place="{place}"][role="{role}"]'
    )


def in_view(page: Page, locator: Locator) -> bool:
    page.wait_for_load_state("load")
    box = locator.bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 0
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= height + 1


def view(page: Page, artifacts: Path, live_server: LiveServer, name: str) -> None:
    """What the window shows now (``shoot`` takes the whole page)."""
    page.screenshot(path=str(artifacts / f"{name}-{live_server.database.backend}.png"))


def new_page(browser: Browser, live_server: LiveServer, width: int, height: int) -> Page:
    context = browser.new_context(  # no smooth scrolling: the page is measured once it is there
        base_url=live_server.url,
        viewport={"width": width, "height": height},
        reduced_motion="reduce",
    )
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_header_actions_and_notices_in_each_language(
    browser: Browser, live_server: LiveServer, shoot: Any, artifacts: Path, lang: str
) -> None:
    reporter = live_server.user()
    incident = live_server.incident(reporter, title=f"Ransomware ({lang})")
    analyst = live_server.user(role=Role.ANALYST, name=f"Nadia {lang}", locale=lang)
    page = new_page(browser, live_server, 1366, 768)
    sign_in(page, analyst)
    page.goto(f"/incidents/{incident.reference}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    state = page.locator(".vigie-file-state")

    # status from the header: the notice in the header, the state bar shows the new status
    head = page.locator("#file-head")
    page.select_option("#head-status-to", "triaged")
    head.locator("form:has(#head-status-to) [type=submit]").click()
    status = said(lang, labels.STATUSES["triaged"])
    expect(notice(page, "file-head")).to_have_text(
        re.compile(re.escape(said(lang, "Status changed: %(status)s.", status=status)))
    )
    expect(state.locator(".vigie-status")).to_have_class(re.compile("vigie-status-triaged"))
    assert in_view(page, state) and in_view(page, notice(page, "file-head"))

    # priority (with its reason) and assignee from the header
    page.select_option("#head-priority", "P1")
    page.fill("#head-priority-reason", "Hôpital à l'arrêt")
    head.locator("form:has(#head-priority) [type=submit]").click()
    expect(notice(page, "file-head")).to_contain_text(
        said(lang, "Priority set to %(priority)s.", priority="P1")
    )
    expect(state.locator(".vigie-priority")).to_have_class(re.compile("vigie-priority-p1"))
    page.select_option("#head-assignee", label=analyst.name)
    head.locator("form:has(#head-assignee) [type=submit]").click()
    expect(notice(page, "file-head")).to_contain_text(
        said(lang, "Assigned to %(name)s.", name=analyst.name)
    )
    expect(state).to_contain_text(analyst.name)
    shoot(page, f"file-head-notice-{lang}")

    # a Markdown comment: the notice next to the form, the state bar still in sight
    page.fill("#comment-body", COMMENT)
    page.locator("#file-comment [type=submit]").click()
    expect(notice(page, "file-comment")).to_contain_text(said(lang, "Internal comment added."))
    assert in_view(page, notice(page, "file-comment")) and in_view(page, state)
    rendered = page.locator(".vigie-event-comment .vigie-rich").first
    expect(rendered.locator("strong")).to_have_text("Important")
    expect(rendered.locator("em")).to_have_text("now")
    expect(rendered.locator("li code")).to_have_text("fs01")
    link = rendered.locator("a")
    expect(link).to_have_attribute("href", "https://cert.example/rb")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    shoot(page, f"file-comment-notice-{lang}")
    view(page, artifacts, live_server, f"file-comment-window-{lang}")

    # an invalid observable: the error where it was typed, in the page's language, value kept
    page.select_option("#observable-type", "ipv4")
    page.fill("#observable-value", "999.1.1.1")
    page.locator("#observables form:has(#observable-value) [type=submit]").click()
    error = notice(page, "observables", "alert")
    expect(error).to_be_visible()
    octet = said(
        lang,
        "IPv4 octet %(octet)s in %(value)s is out of range 0-255",
        octet="999",
        value="'999.1.1.1'",
    )
    expect(error).to_contain_text(octet)
    expect(page.locator("#observable-value")).to_have_value("999.1.1.1")
    expect(
        page.locator("#observable-value + .invalid-feedback, #observable-value ~ .invalid-feedback")
    ).to_contain_text(octet)
    assert in_view(page, error)
    if lang != "en":
        expect(page.locator("main")).not_to_contain_text("out of range")
    shoot(page, f"file-error-notice-{lang}")
    page.context.close()


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_header_at_390_px(
    browser: Browser, live_server: LiveServer, shoot: Any, artifacts: Path, lang: str
) -> None:
    reporter = live_server.user()
    incident = live_server.incident(reporter, title="Défiguration du portail")
    analyst = live_server.user(role=Role.ANALYST, name="Karim", locale=lang)
    page = new_page(browser, live_server, 390, 844)
    sign_in(page, analyst)
    page.goto(f"/incidents/{incident.reference}")
    page.locator("#head-status-to").focus()
    page.keyboard.press("Home")  # the keyboard chooses the status: the first one offered
    page.keyboard.press("ArrowDown")  # (after the blank choice; the last, duplicate, asks why)
    chosen = page.locator("#head-status-to").input_value()
    assert chosen
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Apply button, reached by Tab
    expect(page.locator(".vigie-file-state .vigie-status")).to_have_class(
        re.compile(f"vigie-status-{chosen}")
    )
    expect(notice(page, "file-head")).to_be_visible()
    view(page, artifacts, live_server, f"file-390-head-{lang}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    page.fill("#reply-body", XSS)
    page.locator("#file-reply [type=submit]").click()
    expect(notice(page, "file-reply")).to_be_visible()
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main img[src=x]").count() == 0
    assert page.locator('main a[href^="javascript"]').count() == 0
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    assert in_view(page, page.locator(".vigie-file-state"))
    view(page, artifacts, live_server, f"file-390-scrolled-{lang}")
    shoot(page, f"file-390-{lang}")
    page.context.close()


def test_reclassify_shows_the_real_state(browser: Browser, live_server: LiveServer) -> None:
    """A report classed ``other`` without a type: the select says so, not "Spam"."""
    reporter = live_server.user()
    incident = live_server.incident(reporter, title="Something odd")
    page = new_page(browser, live_server, 1366, 768)
    sign_in(page, live_server.user(role=Role.ANALYST, locale="en"))
    page.goto(f"/incidents/{incident.reference}")
    expect(page.locator("#rsit-classification")).to_have_value("")
    selected = page.locator("#rsit-classification option:checked")
    expect(selected).to_have_text("— choose a type —")
    page.context.close()
