"""The notification centre in a real browser: the bell's unread count in the header, the list
(open one: it is read and the incident opens; mark all as read), in French, English and Arabic at
1366 × 768 and on a 390 px phone; screenshots kept and looked at."""

from __future__ import annotations

from typing import Any

import pytest

from core.clock import SystemClock
from core.db import make_session_factory
from core.events import deliver_events
from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.models import Incident
from incidents.slice import SLICE
from incidents.workspace import conversation, workflow
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, languages, sign_in
from tests.kit.events import slice_settings  # noqa: E402

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser
SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}


def deliver(live_server: LiveServer) -> None:
    """What the scheduler's ``events.deliver`` job does, once (the live server runs none)."""
    factory = make_session_factory(live_server.database.engine)
    deliver_events(factory, SLICE.handlers, clock=SystemClock(), settings=slice_settings())


def happen(live_server: LiveServer, lead: User, analyst: User, reporter: User) -> list[Incident]:
    """Three reports, one assigned to the lead, answered by its reporter, and a comment that
    mentions the lead."""
    incidents = [
        live_server.incident(reporter, title="Hameçonnage ciblant la messagerie du ministère"),
        live_server.incident(reporter, title="Rançongiciel sur le serveur de fichiers"),
        live_server.incident(reporter, title="Défiguration du portail", tlp="TLP:RED"),
    ]
    clock = live_server.clock
    with live_server.session() as session:
        first = session.get_one(Incident, incidents[0].id)
        second = session.get_one(Incident, incidents[1].id)
        staff = Actor.for_user(session.get_one(User, analyst.id))  # their centres: read in session
        workflow.assign(session, staff, first, lead, clock=clock)
        conversation.reporter_answer(
            session, Actor.for_user(reporter), first, "Les journaux sont joints.", clock=clock
        )
        handle = lead.email.partition("@")[0]
        conversation.add_comment(session, staff, second, f"@{handle} à valider", clock=clock)
        session.commit()
    deliver(live_server)
    return incidents


def test_the_bell_and_the_list_in_each_language_and_size(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    deliver(live_server)  # the events of the tests before: told to the leads of then
    reporter = live_server.user(name="Leila Berrada", locale="fr")
    lead = live_server.user(role=Role.LEAD, name="Salma Coordinatrice", locale="fr")
    analyst = live_server.user(role=Role.ANALYST, name="Nadia Analyste")
    incidents = happen(live_server, lead, analyst, reporter)
    sign_in(page, lead)
    count = page.locator(".vigie-bell-count")
    expect(count).to_have_text("6")  # three new incidents, assigned, an answer, a mention

    for lang, direction in languages(live_server):
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"/notifications?lang={lang}")
            expect(page.locator("html")).to_have_attribute("dir", direction)
            items = page.locator(".vigie-notifications > li")
            expect(items).to_have_count(6)
            expect(page.locator(".vigie-bell")).to_be_visible()
            expect(items.first).to_contain_text(incidents[1].reference)  # the mention: newest
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{lang} {size}: {width}px wide"
            shoot(page, f"notifications-{lang}-{size}")

    page.set_viewport_size(SIZES["1366"])
    page.goto("/notifications?lang=en")
    assigned = page.locator(".vigie-notifications > li", has_text="was assigned to you")
    assigned.get_by_role("button", name=f"{incidents[0].reference} was assigned to you").click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{incidents[0].reference}")
    expect(count).to_have_text("5")
    page.goto("/notifications?lang=en")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator(".vigie-notifications .vigie-notification-unread")).to_have_count(0)
    expect(count).to_have_count(0)
    expect(page.locator(".vigie-bell")).to_have_attribute(
        "aria-label", "Notifications: none unread"
    )
    page.set_viewport_size(SIZES["390"])
    page.goto("/account?lang=ar")
    expect(page.locator("#notifications-title")).to_be_visible()
    card = page.locator("section[aria-labelledby=notifications-title]").bounding_box()
    assert card is not None and card["x"] >= 0 and card["x"] + card["width"] <= 390
    shoot(page, "notifications-account-ar-390")
    assert watch.console_errors == []
