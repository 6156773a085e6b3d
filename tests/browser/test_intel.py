"""The intel pages in a real browser: indicator search, an indicator with its relations and
sightings, an ATT&CK technique with the incidents matching it — in French, English and Arabic
at 1366 × 768 and on a 390 px phone, never wider than the screen; screenshots kept and looked
at."""

from __future__ import annotations

from typing import Any

import pytest

from core.identity.models import Role
from incidents.models import Incident
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, languages, sign_in
from tests.incidents.intel.context_scene import IP, context, sighted
from tests.kit.factories import INFECTED_HOST

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser
SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}


def test_intel_pages_in_each_language_and_size(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    reporter = live_server.user(name="Leila Berrada", locale="fr")
    analyst = live_server.user(role=Role.ANALYST, name="Nadia Analyste")
    incident = live_server.incident(
        reporter, **{**INFECTED_HOST, "title": "Poste infecté au cabinet"}
    )
    with live_server.session() as session:
        indicator = context(session)
        sighted(session, live_server.clock, session.get_one(Incident, incident.id))
        session.commit()
        indicator_id = indicator.id
    sign_in(page, analyst)
    pages = {
        "search": f"/intel/indicators?q={IP}",
        "indicator": f"/intel/indicators/{indicator_id}",
        "technique": "/intel/techniques/T1566",
    }
    for lang, direction in languages(live_server):
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for name, url in pages.items():
                page.goto(f"{url}&lang={lang}" if "?" in url else f"{url}?lang={lang}")
                expect(page.locator("html")).to_have_attribute("dir", direction)
                expect(page.locator("main, body").first).to_contain_text(
                    incident.reference if name != "search" else "Emotet C2 server"
                )
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{name} {lang} {size}: {width}px wide"
                shoot(page, f"intel-{name}-{lang}-{size}")
    page.set_viewport_size(SIZES["1366"])
    page.goto(f"/intel/indicators?q={IP}&lang=en")
    page.get_by_role("link", name=IP).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Emotet C2 server")
    page.goto(f"/intel/indicators/{indicator_id}?lang=en")
    page.get_by_role("link", name=incident.reference).click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{incident.reference}")
    assert watch.console_errors == []
