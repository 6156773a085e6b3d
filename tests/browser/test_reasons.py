"""Dangerous actions ask why, in a real browser (issue 17), in French, English and Arabic, at
1366 × 768 and on a 390 px phone: rejecting needs a reason the reporter then reads on /track;
resolving an unassigned incident asks for its owner; a bulk assignment that takes incidents from
another analyst says how many and from whom, and waits for the confirmation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.models import Incident
from incidents.workspace import workflow
from tests.browser.conftest import LiveServer, browser_or_skip, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Browser, Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

WIDE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
REASONS = {
    "fr": "Panne électrique du fournisseur, pas un incident de sécurité.",
    "en": "A power cut at the provider, not a security incident.",
    "ar": "انقطاع للكهرباء لدى المزوّد، وليس حادثًا أمنيًا.",
}
SUBMIT_STATUS = "#actions form#file-status button[type=submit]"


def status_of(page: Page, status: str) -> None:
    expect(page.locator(".vigie-file-state .vigie-status").first).to_have_class(
        re.compile(f"vigie-status-{status}")
    )


def assign(live_server: LiveServer, incident: Incident, who: User, by: User) -> None:
    with live_server.session() as session:
        row = session.get(Incident, incident.id)
        assert row is not None
        actor, target = Actor.for_user(session.get_one(User, by.id)), session.get(User, who.id)
        workflow.assign(session, actor, row, target, clock=live_server.clock)
        session.commit()


def triage(live_server: LiveServer, incident: Incident, by: User) -> None:
    with live_server.session() as session:
        row = session.get(Incident, incident.id)
        assert row is not None
        actor = Actor.for_user(session.get_one(User, by.id))  # their centres: read in session
        workflow.change_status(
            session, actor, row, "triaged", clock=live_server.clock, settings=live_server.intake
        )
        session.commit()


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_rejecting_asks_for_the_reason_the_reporter_then_reads(
    page: Page, browser: Browser, live_server: LiveServer, shoot: Any, lang: str
) -> None:
    reporter = live_server.user(name="Leila Berrada", locale=lang)
    incident = live_server.incident(reporter, title="Serveur injoignable / server down")
    analyst = live_server.user(role=Role.ANALYST, name="Nadia Analyst")
    sign_in(page, analyst)
    page.set_viewport_size(WIDE)
    page.goto(f"/incidents/{incident.reference}?lang={lang}")
    page.select_option("#status-to", "rejected")
    page.locator(SUBMIT_STATUS).click()
    expect(page.locator("#status-reason")).to_have_class(re.compile("is-invalid"))
    status_of(page, "new")
    page.locator("#status-reason").scroll_into_view_if_needed()
    shoot(page, f"reasons-reject-refused-{lang}-1366")
    page.select_option("#status-to", "rejected")
    page.fill("#status-reason", REASONS[lang])
    page.locator(SUBMIT_STATUS).click()
    status_of(page, "rejected")
    expect(page.locator(".vigie-event-status").first).to_contain_text(REASONS[lang])

    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    phone = context.new_page()
    sign_in(phone, reporter)
    phone.goto(f"/track/{incident.reference}?lang={lang}")
    expect(phone.locator(".vigie-decision")).to_contain_text(REASONS[lang])
    expect(phone.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # nothing overflows the phone's width
    shoot(phone, f"reasons-track-rejected-{lang}-390")
    phone.set_viewport_size(WIDE)
    shoot(phone, f"reasons-track-rejected-{lang}-1366")
    context.close()


@pytest.mark.parametrize(("lang", "viewport"), [("fr", WIDE), ("ar", PHONE), ("en", PHONE)])
def test_resolving_an_unassigned_incident_asks_for_its_owner(
    page: Page, live_server: LiveServer, shoot: Any, lang: str, viewport: dict[str, int]
) -> None:
    reporter = live_server.user()
    incident = live_server.incident(reporter, title="Compte de messagerie compromis")
    analyst = live_server.user(role=Role.ANALYST, name="Nadia Analyst")
    triage(live_server, incident, analyst)
    sign_in(page, analyst)
    page.set_viewport_size(viewport)
    page.goto(f"/incidents/{incident.reference}?lang={lang}")
    expect(page.locator("#status-owner")).to_be_visible()
    page.select_option("#status-to", "resolved")
    page.fill("#status-resolution", "Mot de passe réinitialisé, sessions fermées.")
    page.locator(SUBMIT_STATUS).click()
    expect(page.locator("#status-owner")).to_have_class(re.compile("is-invalid"))
    status_of(page, "triaged")
    page.locator("#status-owner").scroll_into_view_if_needed()
    shoot(page, f"reasons-owner-refused-{lang}-{viewport['width']}")
    page.select_option("#status-to", "resolved")
    page.select_option("#status-owner", label="Nadia Analyst")
    page.locator(SUBMIT_STATUS).click()
    status_of(page, "resolved")
    expect(page.locator(".vigie-file-facts")).to_contain_text("Nadia Analyst")
    expect(page.locator("#status-owner")).to_have_count(0)  # it has an owner now


@pytest.mark.parametrize(("lang", "viewport"), [("fr", WIDE), ("en", WIDE), ("ar", PHONE)])
def test_a_bulk_assignment_taking_incidents_asks_to_confirm(
    page: Page, live_server: LiveServer, shoot: Any, lang: str, viewport: dict[str, int]
) -> None:
    reporter = live_server.user()
    other = live_server.user(role=Role.ANALYST, name="Youssef Autre")
    lead = live_server.user(role=Role.LEAD)
    me = live_server.user(role=Role.ANALYST, name="Nadia Analyst")
    title = f"Hameçonnage {lang} {viewport['width']}"
    taken = [live_server.incident(reporter, title=f"{title} #{n}") for n in range(2)]
    for incident in taken:
        assign(live_server, incident, other, lead)
    sign_in(page, me)
    page.set_viewport_size(viewport)
    page.goto(f"/queue?q={title.split()[0]}&lang={lang}")
    for incident in taken:
        page.check(f"input[name=incident][value='{incident.reference}']")
    page.select_option("#queue-bulk select[name=action]", "assign_me")
    page.locator("#queue-bulk button[type=submit]").click()
    confirm = page.locator(".vigie-bulk-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.locator(".vigie-taken li")).to_have_count(1)
    expect(confirm.locator(".vigie-taken li")).to_contain_text("Youssef Autre")
    expect(confirm.locator(".vigie-taken li")).to_contain_text("2")
    shoot(page, f"reasons-bulk-confirm-{lang}-{viewport['width']}")
    with live_server.session() as session:  # nothing changed yet
        held = {session.get(Incident, i.id).assignee_id for i in taken}  # type: ignore[union-attr]
    assert held == {other.id}
    confirm.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/queue"))
    with live_server.session() as session:
        held = {session.get(Incident, i.id).assignee_id for i in taken}  # type: ignore[union-attr]
    assert held == {me.id}
