"""A reporter in a real browser: sign in, report an incident by form, follow it; the browser-side
checks of the form; the Arabic interface right to left; stored XSS and the CSP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from incidents.models import Attachment, Incident
from incidents.rules import labels
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is known to be there)

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"MACERT-\d{4}-\d{6}")
LOG = b"2026-01-15 08:12 POST /login from 203.0.113.66 user=daf12\n"
XSS_TITLE = "<img src=x onerror=window.__xss=1> <script>window.__xss=1</script> Hameçonnage"
XSS_BODY = (
    "<script>window.__xss=1</script><img src=x onerror=window.__xss=1>"
    "<svg onload=alert(document.domain)></svg> lien hxxps://evil-login[.]example/x"
)


def open_family_and_pick(page: Page, family: str, kind: str) -> None:
    """Choose an RSIT class the way a reporter does: by the plain-language descriptions."""
    _, family_help = labels.RSIT_CLASSES[family]
    _, kind_help = labels.RSIT_TYPES[kind]
    page.locator("summary", has_text=family_help).click()
    page.locator("label", has_text=kind_help).click()
    expect(page.locator(f"input[name=classification][value='{family}/{kind}']")).to_be_checked()


def fill_report(page: Page, *, title: str, description: str) -> None:
    page.get_by_role("link", name="Report an incident").first.click()
    expect(page).to_have_url(re.compile(r"/incidents/new$"))
    page.fill("#title", title)
    page.fill("#description", description)
    open_family_and_pick(page, "fraud", "phishing")
    page.locator("label[for=impact-high]").click()
    page.locator("label[for=urgency-high]").click()


def send(page: Page) -> str:
    """Send the form; the reference shown on the confirmation page."""
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile(r"/incidents/MACERT-[0-9-]+/submitted$"))
    reference = page.locator(".vigie-reference").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def inert(page: Page, watch: Watch) -> None:
    """No payload ran: no global set, no dialog, no element injected from user text."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert watch.dialogs == []
    assert page.locator("main img[src=x], main script:not([src]), main svg[onload]").count() == 0


# ---------------------------------------------------------------- reporting and following
def test_a_reporter_reports_by_form_and_follows_the_status_page(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    reporter = live_server.user(name="Leila Berrada")
    sign_in(page, reporter)
    fill_report(
        page,
        title="Suspicious e-mails asking for webmail passwords",
        description="Two agents clicked hxxps://webmail-finances[.]com/login from 185.220.101[.]7.",
    )
    page.set_input_files(
        "#attachments", files=[{"name": "proxy.log", "mimeType": "text/plain", "buffer": LOG}]
    )
    shoot(page, "new-en")
    reference = send(page)

    expect(page.locator(".vigie-receipt")).to_contain_text("P2")  # high impact × high urgency
    expect(page.locator(".vigie-receipt")).to_contain_text("Phishing")
    shoot(page, "submitted-en")

    page.get_by_role("link", name="Follow this report").click()
    expect(page).to_have_url(re.compile(f"/track/{reference}$"))
    expect(page.locator("h1")).to_have_text("Suspicious e-mails asking for webmail passwords")
    expect(page.locator(".vigie-files")).to_contain_text("proxy.log")
    observables = page.locator(".vigie-observable")
    expect(observables).to_contain_text(["https://webmail-finances.com/login", "185.220.101.7"])
    shoot(page, "track-en")

    page.get_by_role("link", name="My incidents").first.click()
    expect(page.locator(".vigie-incidents")).to_contain_text(reference)
    shoot(page, "mine-en")
    page.get_by_role("link", name="My account").first.click()
    expect(page.locator("main")).to_contain_text(reporter.email)
    shoot(page, "account-en")
    assert watch.console_errors == []

    with live_server.session() as session:
        incident = session.scalars(select(Incident).filter_by(reference=reference)).one()
        assert (incident.category, incident.type, incident.priority) == ("fraud", "phishing", "P2")
        assert incident.reporter_id == reporter.id
        attachment = session.scalars(select(Attachment).filter_by(incident_id=incident.id)).one()
        assert (attachment.filename, attachment.size) == ("proxy.log", len(LOG))


def test_the_browser_stops_a_report_without_a_title(page: Page, live_server: LiveServer) -> None:
    reporter = live_server.user()
    sign_in(page, reporter)
    fill_report(page, title="", description="Something odd happened on the file server.")
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.get_by_role("button", name="Send the report").click()

    expect(page).to_have_url(re.compile(r"/incidents/new$"))
    title = page.locator("#title")
    assert title.evaluate("(el) => el.validity.valueMissing") is True
    assert page.evaluate("document.activeElement.id") == "title"  # the browser points at it
    assert posts == []  # nothing left the browser
    with live_server.session() as session:
        count = select(func.count()).select_from(Incident).filter_by(reporter_id=reporter.id)
        assert session.scalar(count) == 0


# ---------------------------------------------------------------- Arabic, right to left
def _boxes(page: Page) -> dict[str, dict[str, float]]:
    boxes = {}
    for name, selector in (
        ("brand", ".navbar-brand"),
        ("first_link", "#vigie-nav .nav-link >> nth=0"),
        ("last_link", "#vigie-nav .nav-link >> nth=-1"),
        ("heading", "main h1"),
    ):
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        boxes[name] = box
    return boxes


def test_the_arabic_interface_is_mirrored_right_to_left(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    reporter = live_server.user(locale="fr")
    incident = live_server.incident(reporter, title="برنامج فدية على خادم الملفات")
    sign_in(page, reporter)
    width = page.viewport_size["width"] if page.viewport_size else 1280

    page.goto("/incidents/new?lang=fr")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    ltr = _boxes(page)
    page.goto("/incidents/new?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    rtl = _boxes(page)
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    shoot(page, "new-ar")

    # The brand sits at the left in French and at the mirrored place on the right in Arabic.
    assert ltr["brand"]["x"] < width / 2 < rtl["brand"]["x"]
    mirrored = width - (rtl["brand"]["x"] + rtl["brand"]["width"])
    assert abs(mirrored - ltr["brand"]["x"]) <= 2, (ltr["brand"], rtl["brand"])
    # The menu reads from right to left: its first item is now right of its last.
    assert ltr["first_link"]["x"] < ltr["last_link"]["x"]
    assert rtl["first_link"]["x"] > rtl["last_link"]["x"]
    # Headings start at the right edge of the content.
    assert rtl["heading"]["x"] + rtl["heading"]["width"] > width / 2

    page.goto(f"/track/{incident.reference}")  # the choice stays for the session
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("برنامج فدية على خادم الملفات")
    shoot(page, "track-ar")
    page.goto("/incidents/mine")
    shoot(page, "mine-ar")
    page.goto("/account")
    shoot(page, "account-ar")
    assert watch.console_errors == []


def test_the_login_page_in_each_language(page: Page, shoot: Any) -> None:
    for lang, direction in (("fr", "ltr"), ("en", "ltr"), ("ar", "rtl")):
        page.goto(f"/login?lang={lang}")
        expect(page.locator("html")).to_have_attribute("dir", direction)
        expect(page.locator("#email")).to_be_focused()
        shoot(page, f"login-{lang}")


# ---------------------------------------------------------------- stored XSS and CSP
def test_a_stored_xss_payload_stays_inert_on_every_reporter_page(
    page: Page, live_server: LiveServer, watch: Watch
) -> None:
    reporter = live_server.user()
    sign_in(page, reporter)
    fill_report(page, title=XSS_TITLE, description=XSS_BODY)
    reference = send(page)
    expect(page.locator(".vigie-receipt")).to_contain_text(XSS_TITLE)  # shown as text
    inert(page, watch)

    page.goto(f"/track/{reference}")
    expect(page.locator("h1")).to_have_text(XSS_TITLE)
    expect(page.locator(".vigie-text").first).to_have_text(XSS_BODY)
    inert(page, watch)

    page.goto("/incidents/mine")
    expect(page.locator(".vigie-incidents")).to_contain_text(XSS_TITLE)
    inert(page, watch)


def test_the_csp_blocks_inline_script_and_lets_the_sites_own_run(
    page: Page, live_server: LiveServer
) -> None:
    response = page.goto("/login")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # vigie.js (same origin) ran: it removes the no-JS marker.
    expect(page.locator("html")).not_to_have_class(re.compile("vigie-no-js"))
    outcome = page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation",
                (e) => resolve({blocked: e.violatedDirective, ran: window.__inline === 1}));
            const script = document.createElement("script");
            script.textContent = "window.__inline = 1";
            document.body.append(script);
            setTimeout(() => resolve({blocked: null, ran: window.__inline === 1}), 2000);
        })"""
    )
    assert outcome == {"blocked": "script-src-elem", "ran": False}
