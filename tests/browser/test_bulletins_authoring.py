"""Bulletins in a real browser: an analyst writes a draft in French and Arabic (the Arabic tab
right to left), submits it, and a second lead approves it (the author never sees "Approve"); the
list and the form in French and Arabic, at 1366 px and on a 390 px phone, never scroll sideways;
screenshots of each."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bulletins.authoring import services as svc
from bulletins.authoring.schemas import DraftIn
from bulletins.models import Bulletin, BulletinStatus
from core.identity.authz import Actor
from core.identity.models import Role
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, no_sideways_scroll, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
WORDS = {"fr": ("Bulletins", "Rédiger un bulletin"), "ar": ("النشرات", "تحرير نشرة")}


def test_an_analyst_writes_submits_and_a_second_lead_approves(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    analyst = live_server.user(role=Role.ANALYST, locale="fr", name="Amine Analyste")
    lead = live_server.user(role=Role.LEAD, locale="fr", name="Nadia Lead")
    sign_in(page, analyst)
    page.goto("/bulletins/new")
    page.select_option("#f-kind", "alert")
    page.select_option("#f-tlp", "TLP:GREEN")
    page.fill("#f-title-fr", "Campagne d'hameçonnage visant les ministères")
    page.fill("#f-summary-fr", "Des courriels frauduleux imitent la messagerie ministérielle.")
    page.locator("#tab-ar").click()
    arabic = page.locator("#f-title-ar")
    expect(arabic).to_be_visible()
    assert arabic.get_attribute("dir") == "rtl"
    arabic.fill("حملة تصيد احتيالي تستهدف الوزارات")
    page.fill("#f-indicators", "domain webmail-interieur.com")
    page.locator("#bulletin-form button[type=submit]:not([name])").click()
    page.wait_for_url("**/edit")
    expect(page.locator(".alert-success")).to_contain_text("Le brouillon est enregistré")
    expect(page.locator("#f-title-ar")).to_have_value("حملة تصيد احتيالي تستهدف الوزارات")
    bulletin_id = int(page.url.rstrip("/").split("/")[-2])
    shoot(page, "bulletins-draft-fr-1280")
    page.get_by_role("button", name="Soumettre à relecture").click()
    expect(page.locator(".alert-success")).to_contain_text("soumis à relecture")
    page.context.clear_cookies()
    sign_in(page, lead)
    page.goto(f"/bulletins/{bulletin_id}/edit")
    page.get_by_role("button", name="Approuver").click()
    expect(page.locator(".alert-success")).to_contain_text("il peut être publié")
    shoot(page, "bulletins-approved-fr-1280")
    with live_server.session() as session:
        bulletin = session.get_one(Bulletin, bulletin_id)
        assert bulletin.status is BulletinStatus.APPROVED
        assert bulletin.approved_by_id == lead.id and bulletin.created_by_id == analyst.id
        assert bulletin.indicators == [{"type": "domain", "value": "webmail-interieur.com"}]
    assert watch.dialogs == [] and watch.console_errors == []


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_list_and_the_form_in_french_and_arabic(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    analyst = live_server.user(role=Role.ANALYST, locale=lang, name="Amine Analyste")
    with live_server.session() as session:
        if not session.scalar(select(Bulletin.id).limit(1)):
            data = DraftIn.model_validate({
                "kind": "advisory", "tlp": "TLP:AMBER", "risk": "critical",
                "cves": ["CVE-2026-21762"],
                "affected": [{"vendor": "Fortinet", "product": "FortiOS", "versions": "7.0"}],
                "texts": {"fr": {"title": "Vulnérabilité critique dans FortiOS (CVE-2026-21762)"},
                          "ar": {"title": "ثغرة حرجة في FortiOS"}}})  # fmt: skip
            svc.create_draft(session, Actor.system("test"), data, clock=live_server.clock)
            session.commit()
    sign_in(page, analyst)
    page.goto("/bulletins")
    expect(page.locator("main h1")).to_have_text(WORDS[lang][0])
    expect(page.locator("main .bulletin-list li").first).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"bulletins-list-{lang}-{size}")
    page.goto("/bulletins/new")
    expect(page.locator("main h1")).to_have_text(WORDS[lang][1])
    page.locator("#bulletin-form button[type=submit]:not([name])").click()  # no French title
    expect(page.locator("#e-title-fr")).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"bulletins-form-{lang}-{size}")
    assert watch.dialogs == []
    assert [e for e in watch.console_errors if "422" not in e] == []  # the refused form only
