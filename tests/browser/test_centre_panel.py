"""The incident file's "Centre" panel in a real browser (issue 22), in French, English and
Arabic: the centre's name (Arabic in Arabic), sharing with another centre, then transferring the
incident there; each action says what it did where it was taken."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from core.identity.models import Role
from tests.browser.conftest import LiveServer, browser_or_skip, sign_in
from tests.incidents.centres.route_scene import make_centre

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser
_serial = itertools.count(1)


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_sharing_then_transferring_from_the_panel(
    page: Page, live_server: LiveServer, shoot: Any, lang: str
) -> None:
    n = next(_serial)
    with live_server.session() as session:
        make_centre(
            session, live_server.clock, f"soc-sante-{lang}-{n}", name="Centre de veille santé",
            name_ar="مركز اليقظة للصحة",
        )  # fmt: skip
        target = make_centre(
            session, live_server.clock, f"soc-fin-{lang}-{n}", name="Centre de veille finances",
            name_ar="مركز اليقظة للمالية",
        )  # fmt: skip
        slug = target.slug
        session.commit()
    reporter = live_server.user(name="Leila Berrada", locale=lang)
    incident = live_server.incident(reporter, title="Poste infecté")
    lead = live_server.user(role=Role.LEAD, name="Hicham Lead", locale=lang)
    sign_in(page, lead)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/incidents/{incident.reference}?lang={lang}")
    panel = page.locator("#centre")
    expect(panel.locator(".vigie-centre-name")).to_be_visible()
    page.select_option("#share-centre", slug)
    page.select_option("#share-mode", "work")
    page.fill("#share-reason", "Enquête conjointe")
    panel.locator("#centre-share button[type=submit]").click()
    expect(panel.locator(".vigie-notice")).to_have_count(1)
    finance = "مركز اليقظة للمالية" if lang == "ar" else "Centre de veille finances"
    expect(panel.locator(".vigie-shares")).to_contain_text(finance)
    page.select_option("#transfer-centre", slug)
    page.fill("#transfer-reason", "Compétence du centre finances")
    panel.locator("#centre-transfer button[type=submit]").click()
    expect(panel.locator(".vigie-notice")).to_contain_text(finance)
    expect(panel.locator(".vigie-centre-name")).to_have_text(finance)
    expect(page.locator(".vigie-event-transferred").first).to_contain_text(finance)
    if lang == "ar":
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
    panel.scroll_into_view_if_needed()
    shoot(page, f"centre-panel-{lang}-1366")
