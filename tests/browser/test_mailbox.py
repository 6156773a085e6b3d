"""The held-mail queue in a real browser: the queue and a held message's page in French and
Arabic (right to left), at 1366 × 768 and on a 390 px phone; the demo's messages received through
the real receiving path; screenshots kept and looked at. One database (SQLite): the pages do not
depend on it, and the suite's time budget is tight."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.db import make_session_factory
from core.identity.models import Role
from core.uow import unit_of_work
from incidents.demo.mail_samples import DEMO_AUTHSERV_ID, samples
from incidents.mailbox.models import MailSource
from incidents.mailbox.receiving import Received, receive
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("live_server", ["sqlite"], indirect=True),
]
SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
LANGUAGES = (("fr", "ltr"), ("ar", "rtl"))


def received(live_server: LiveServer) -> list[Received]:
    """The demo messages, received as the mailbox job receives them."""
    mail = dataclasses.replace(live_server.intake.mail, trusted_authserv_id=DEMO_AUTHSERV_ID)
    settings = dataclasses.replace(live_server.intake, mail=mail)
    factory = make_session_factory(live_server.database.engine)
    results = []
    for raw in samples():
        with unit_of_work(factory, clock=live_server.clock) as uow:
            results.append(receive(uow, raw, source=MailSource.PIPE, settings=settings))
    return results


def fits(page: Page, width: int, what: str) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{what}: {scroll}px wide"


def test_the_held_queue_in_each_language_and_size(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    results = received(live_server)
    assert all(r.status == "held" for r in results), results
    analyst = live_server.user(role=Role.ANALYST, name="Nadia Analyste", locale="fr")
    sign_in(page, analyst)
    for lang, direction in LANGUAGES:
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"/mail?lang={lang}")
            expect(page.locator("html")).to_have_attribute("dir", direction)
            rows = page.locator(".vigie-mail-table tbody tr")
            expect(rows).to_have_count(len(results))
            expect(page.locator(".vigie-mail-reason-dmarc_fail")).to_be_visible()
            expect(page.locator(".vigie-mail-reason-auto_reply")).to_be_visible()
            fits(page, viewport["width"], f"queue {lang} {size}")
            shoot(page, f"mailbox-queue-{lang}-{size}")
    page.goto("/mail?lang=fr")
    expect(page.locator(".vigie-mail-count").first).to_have_text(str(len(results)))
    assert watch.console_errors == []


def test_a_held_message_in_each_language_and_size(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    results = received(live_server)  # the same bytes: the same messages
    arabic = results[-1].mail_id
    phishing = results[0].mail_id
    analyst = live_server.user(role=Role.ANALYST, name="Omar Analyste", locale="fr")
    sign_in(page, analyst)
    for lang, direction in LANGUAGES:
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for mail_id, name in ((phishing, "fr-report"), (arabic, "ar-report")):
                page.goto(f"/mail/{mail_id}?lang={lang}")
                expect(page.locator("html")).to_have_attribute("dir", direction)
                expect(page.locator("pre.vigie-mail-text")).to_be_visible()
                expect(page.locator("#incident-organisation")).to_be_visible()
                fits(page, viewport["width"], f"message {name} {lang} {size}")
                shoot(page, f"mailbox-message-{name}-{lang}-{size}")
    assert watch.console_errors == []
