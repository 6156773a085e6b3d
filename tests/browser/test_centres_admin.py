"""An administrator in a real browser creates a vigilance centre, makes an analyst a member on
standing duty and puts them on the rota — in French and Arabic at 1366 px; the pages never
scroll sideways; screenshots of the centre's page and the list."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from core.identity.models import Role
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, no_sideways_scroll, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

# where the notes of issue 22 keep the screenshots (copied there when the directory exists)
NOTES = Path(os.environ.get("CERT_CENTRE_SHOTS", "/work/notes/shots"))


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_an_admin_sets_up_a_centre(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str
) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    admin = live_server.user(role=Role.ADMIN, locale=lang, name="Salma Admin")
    analyst = live_server.user(role=Role.ANALYST, locale=lang, name=f"Amine Analyste {lang}")
    slug = f"sante-{lang}-{live_server.database.backend}"
    sign_in(page, admin)

    page.goto("/admin/centres")
    page.locator("main a[href='/admin/centres/new']").click()
    page.fill("#slug", slug)
    page.fill("#name", "Centre de veille du secteur de la santé")
    page.fill("#name_ar", "مركز اليقظة لقطاع الصحة")
    page.fill("#contact_email", "soc@sante.gov.ma")
    page.fill("#sectors", "health")
    page.check("input[name=categories][value=fraud]")
    page.locator("main form [type=submit]").click()
    expect(page.locator(".vigie-flashes")).to_be_visible()
    assert page.url.endswith(f"/admin/centres/{slug}")

    page.select_option("#member-user", str(analyst.id))
    page.check("#member-on_duty")
    page.locator("#members form [type=submit]").last.click()
    expect(page.locator("#members table")).to_contain_text(analyst.name)

    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date()
    page.select_option("#shift-user", str(analyst.id))
    page.fill("#shift-starts_at", f"{day}T08:30")
    page.fill("#shift-ends_at", f"{day}T16:30")
    page.fill("#shift-note", "permanence")
    page.locator("#rota form [type=submit]").last.click()
    expect(page.locator("#rota table")).to_contain_text("08:30")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    no_sideways_scroll(page)
    path = shoot(page, f"admin-centre-{lang}-1366")
    page.goto("/admin/centres")
    expect(page.locator("main table")).to_contain_text(analyst.name)  # on duty now
    no_sideways_scroll(page)
    listed = shoot(page, f"admin-centres-{lang}-1366")
    if NOTES.is_dir() and live_server.database.backend == "sqlite":
        shutil.copy(path, NOTES / f"admin-centre-{lang}.png")
        shutil.copy(listed, NOTES / f"admin-centres-{lang}.png")
    assert watch.console_errors == [] and watch.dialogs == []
