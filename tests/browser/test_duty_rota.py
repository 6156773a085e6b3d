"""The centres' on-duty rota in a real browser (``/notifications/rota``, a lead): who is on duty
now in each centre (a shift, shown until its end in the centre's time zone), a centre's members
and their standing-duty toggle with its result flashed, in French, English and Arabic at
1366 × 768 and on a 390 px phone; screenshots kept and looked at."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from core.identity.models import Role
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, languages, sign_in
from tests.incidents.notifications.centres_scene import add_shift, make_centre, staff

browser_or_skip(module=True)
from playwright.sync_api import Page, ViewportSize, expect  # noqa: E402  (once it is there)

pytestmark = pytest.mark.browser
SIZES: dict[str, ViewportSize] = {
    "1366": {"width": 1366, "height": 768},
    "390": {"width": 390, "height": 844},
}
_runs = itertools.count(1)


def test_the_rota_in_each_language_and_size(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    n = next(_runs)
    clock = live_server.clock
    with live_server.session() as session:
        health = make_centre(session, clock, f"sante-{n}", "health")
        lead = staff(session, clock, health, f"chef.rota{n}@cert.ma", role=Role.LEAD)
        standing = staff(session, clock, health, f"garde.rota{n}@cert.ma", standing=True)
        on_shift = staff(session, clock, health, f"equipe.rota{n}@cert.ma")
        now = clock.now()
        add_shift(
            session,
            clock,
            health,
            on_shift,
            now - dt.timedelta(hours=1),
            now + dt.timedelta(hours=3),
        )
        session.commit()
        slug, shift_name, standing_name = health.slug, on_shift.name, standing.name
    sign_in(page, lead)
    for lang, direction in languages(live_server):
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"/notifications/rota?centre={slug}&lang={lang}")
            expect(page.locator("html")).to_have_attribute("dir", direction)
            row = page.locator("tr.table-active")
            expect(row).to_contain_text(shift_name)
            expect(page.locator("#members")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{lang} {size}: {width}px wide"
            shoot(page, f"rota-{lang}-{size}")
    page.set_viewport_size(SIZES["1366"])
    page.goto(f"/notifications/rota?centre={slug}&lang=en")
    member = page.locator("tr", has_text=standing_name)
    member.get_by_role("button", name=f"Take off standing duty — {standing_name}").click()
    expect(page.locator(".alert-success")).to_contain_text("is no longer on standing duty")
    expect(page.locator("tr", has_text=standing_name)).to_contain_text("Put on standing duty")
    assert watch.console_errors == []
