"""An analyst in a real browser: open an incident, assign it, comment, reply to the reporter,
resolve and close it; the reporter reads the reply and answers from the status page; a stored XSS
payload in a comment stays inert; the incident file in French, English and Arabic."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.identity.models import Role, User
from incidents.models import Incident
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Browser, Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

XSS_COMMENT = (
    "Look at <img src=x onerror=window.__xss=1><script>window.__xss=1</script> the proxy logs"
)
REPLY = "Please isolate the file server from the network and keep it powered on."
ANSWER = "Done: the server is isolated since 10:40."
RESOLUTION = "Ransomware contained; backups restored; two accounts reset."


def inert(page: Page, watch: Watch) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert watch.dialogs == []
    assert page.locator("main img[src=x], main script:not([src])").count() == 0


def file_of(page: Page, incident: Incident) -> None:
    page.goto(f"/incidents/{incident.reference}")
    expect(page.locator("main h1")).to_have_text(incident.title)


def change_status(page: Page, status: str, *, resolution: str | None = None) -> None:
    page.select_option("#status-to", status)
    if resolution is not None:
        page.fill("#status-resolution", resolution)
    page.get_by_role("button", name="Change the status").click()
    expect(page.locator(".vigie-file-state .vigie-status")).to_have_class(
        re.compile(f"vigie-status-{status}")
    )


def reporter_page(browser: Browser, live_server: LiveServer, reporter: User) -> Page:
    """The reporter, signed in from a browser context of their own."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, reporter)
    return page


def test_an_analyst_handles_an_incident_and_the_reporter_answers(
    page: Page, browser: Browser, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    reporter = live_server.user(name="Leila Berrada")
    incident = live_server.incident(
        reporter, title="Ransomware on the file server", description="Files renamed .lockbit"
    )
    analyst = live_server.user(role=Role.ANALYST, name="Nadia Analyst")
    sign_in(page, analyst)
    file_of(page, incident)

    page.select_option("#assign-assignee", label="Nadia Analyst")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".vigie-file-facts")).to_contain_text("Nadia Analyst")

    page.fill("#comment-body", XSS_COMMENT)
    page.get_by_role("button", name="Add the comment").click()
    comment = page.locator(".vigie-event-comment").first
    expect(comment).to_contain_text("the proxy logs")
    inert(page, watch)

    page.fill("#reply-body", REPLY)
    page.get_by_role("button", name="Send the reply").click()
    expect(page.locator(".vigie-event-reply").first).to_contain_text(REPLY)
    change_status(page, "triaged")
    change_status(page, "in_progress")

    # The reporter reads the reply (not the internal comment) and answers.
    other = reporter_page(browser, live_server, reporter)
    other.goto(f"/track/{incident.reference}")
    expect(other.locator(".vigie-event-reply")).to_contain_text(REPLY)
    expect(other.locator("main")).not_to_contain_text("the proxy logs")
    other.fill(".vigie-answer-form textarea", ANSWER)
    other.get_by_role("button", name="Send", exact=True).click()
    expect(other.locator(".vigie-event-reporter_reply").first).to_contain_text(ANSWER)
    shoot(other, "track-conversation-en")

    # The analyst sees the answer, resolves with a summary and closes.
    page.reload()
    expect(page.locator(".vigie-event-reporter_reply").first).to_contain_text(ANSWER)
    change_status(page, "resolved", resolution=RESOLUTION)
    expect(page.locator(".vigie-timeline")).to_contain_text(RESOLUTION)
    change_status(page, "closed")
    inert(page, watch)
    for lang in ("en", "fr", "ar"):
        page.goto(f"/incidents/{incident.reference}?lang={lang}")
        inert(page, watch)
        shoot(page, f"file-{lang}")

    other.reload()
    expect(other.locator(".vigie-status").first).to_have_class(re.compile("vigie-status-closed"))
    expect(other.locator("main")).to_contain_text(RESOLUTION)
    other.context.close()


def test_resolving_without_a_summary_is_refused_on_the_page(
    page: Page, live_server: LiveServer
) -> None:
    reporter = live_server.user()
    incident = live_server.incident(reporter, title="Defaced home page")
    sign_in(page, live_server.user(role=Role.ANALYST))
    file_of(page, incident)
    change_status(page, "triaged")
    page.select_option("#status-to", "resolved")
    page.get_by_role("button", name="Change the status").click()
    expect(page.locator("#status-resolution")).to_have_class(re.compile("is-invalid"))
    expect(page.locator(".vigie-file-state .vigie-status")).to_have_class(
        re.compile("vigie-status-triaged")
    )
