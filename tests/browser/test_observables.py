"""Observables that connect, in a real browser (French, English, Arabic; 1366 × 768 and 390 px):
the marks of what is not an external indicator (private, the constituency's own), where else an
indicator was seen with links, "Copy defanged" (the clipboard read back, the button's "Copied"),
the possible-campaign banner on the file and the flag in the queue."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from core.identity.models import AssetKind, OrganisationAsset, Role
from incidents.models import Incident
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in
from tests.kit.factories import make_org, report

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

_runs = itertools.count(10)
TEXT = {
    "fr": {
        "copy": "Copier désamorcé", "copied": "Copié", "campaign": "Campagne possible",
        "seen": "Vu dans 1 autre incident · 1 organisation", "private": "privée",
        "own": "appartient à la communauté : Ministère de l'Équipement",
    },
    "en": {
        "copy": "Copy defanged", "copied": "Copied", "campaign": "Possible campaign",
        "seen": "Seen in 1 other incident · 1 organisation", "private": "private",
        "own": "the constituency's own: Ministère de l'Équipement",
    },
    "ar": {
        "copy": "نسخ بصيغة معطّلة", "copied": "تم النسخ", "campaign": "حملة محتملة",
        "seen": "شوهد في حادث آخر واحد · هيئة واحدة", "private": "خاص",
        "own": "تابع للجهات المشمولة: وزارة التجهيز",
    },
}  # fmt: skip


def two_reports(live_server: LiveServer, run: int) -> tuple[Incident, Incident, str]:
    """Two organisations report the same indicator (and a private and an own address)."""
    indicator = f"185.220.{run}.4"
    body = {
        "title": f"Connexions suspectes {run}",
        "description": f"Connexions depuis {indicator} vers hxxps://evil-login{run}[.]com/x.php ; "
        f"poste interne 10.12.4.57 ; serveur 196.200.{run}.7 de l'Équipement.",
        "category": "intrusion-attempts",
        "type": "brute-force",
    }
    clock = live_server.clock
    with live_server.session() as session:
        works = make_org(session, clock, name="Ministère de l'Équipement", name_ar="وزارة التجهيز")
        session.add(
            OrganisationAsset(
                organisation_id=works.id,
                kind=AssetKind.IP_RANGE,
                value=f"196.200.{run}.0/24",
                created_at=clock.now(),
            )
        )
        health = make_org(session, clock, name="Ministère de la Santé", name_ar="وزارة الصحة")
        session.commit()
    first = live_server.user(org=health)
    second = live_server.user(org=works)
    with live_server.session() as session:
        other = report(session, clock, first, body, settings=live_server.intake)
        mine = report(session, clock, second, body, settings=live_server.intake)
        session.commit()
    return mine, other, indicator


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_observables_connect_on_the_file_and_in_the_queue(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str
) -> None:
    run = next(_runs)
    mine, other, indicator = two_reports(live_server, run)
    words = TEXT[lang]
    analyst = live_server.user(role=Role.ANALYST, locale=lang)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, analyst)
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/incidents/{mine.reference}?lang={lang}")
        banner = page.locator(".vigie-campaign")
        expect(banner).to_contain_text(words["campaign"])
        expect(banner.get_by_role("link", name=other.reference)).to_be_visible()

        def row(value: str) -> Any:
            return page.locator("#observables tr").filter(
                has=page.locator("span[dir=ltr]", has_text=value)
            )

        # where else the indicator was seen, with a link to the other incident
        seen = row(indicator).locator("details.vigie-seen")
        expect(seen.locator("summary")).to_have_text(words["seen"])
        seen.locator("summary").click()
        expect(seen.get_by_role("link", name=other.reference)).to_be_visible()
        # marks: private, the constituency's own
        expect(row("10.12.4.57").locator(".vigie-scope")).to_have_text(words["private"])
        expect(row(f"196.200.{run}.7").locator(".vigie-scope")).to_have_text(words["own"])
        expect(row("10.12.4.57").locator("details.vigie-seen")).to_have_count(0)
        # copy defanged, with its feedback
        url = row(f"https://evil-login{run}.com/x.php")
        button = url.locator("button[data-copy-defanged]")
        expect(button).to_have_text(words["copy"])
        button.click()
        expect(button).to_have_text(words["copied"])
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == f"hxxps://evil-login{run}[.]com/x.php"
        expect(button).to_have_text(words["copy"], timeout=5000)  # back after two seconds
        row(indicator).locator("button[data-copy-defanged]").click()
        assert page.evaluate("navigator.clipboard.readText()") == f"185.220.{run}[.]4"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"the file scrolls sideways at {width} px ({scroll})"
        page.locator("#observables").scroll_into_view_if_needed()
        if seen.get_attribute("open") is None:  # shown open on the screenshot
            seen.locator("summary").click()
        shoot(page, f"observables-{lang}-{width}")
        # the queue row is flagged
        page.goto(f"/queue?lang={lang}&q={indicator}")
        flagged = page.locator("tbody tr").filter(has=page.get_by_role("link", name=mine.reference))
        expect(flagged.locator(".vigie-campaign-flag")).to_have_text(words["campaign"])
        shoot(page, f"observables-queue-{lang}-{width}")
    assert watch.dialogs == [] and watch.console_errors == []
