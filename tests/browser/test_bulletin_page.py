"""A lead and a reporter read a published bulletin in a real browser, in French and Arabic, at
1366 px and on a 390 px phone: the body after the maCERT model with its TLP banner in the
official colours, the language switch and the downloads; the page never scrolls sideways and
logs no CSP violation; screenshots of each."""

from __future__ import annotations

from typing import Any

import pytest

from bulletins.authoring import services as svc
from bulletins.settings import BulletinSettings
from core.identity.authz import Actor
from core.identity.models import Role
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, no_sideways_scroll, sign_in
from tests.bulletins.outputs_kit import ARABIC_TITLE, full
from tests.bulletins.test_authoring import draft

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
TITLES = {"fr": "Vulnérabilité critique dans FortiOS", "ar": ARABIC_TITLE}


def _published(live_server: LiveServer, lang: str) -> tuple[Any, Any, int]:
    """A lead and a reporter (of the concerned ministry), and a published TLP:AMBER advisory
    about that ministry with many indicators."""
    lead = live_server.user(role=Role.LEAD, locale=lang, name="Hicham Lead")
    second = live_server.user(role=Role.LEAD, locale=lang)
    author = live_server.user(role=Role.ANALYST, locale=lang)
    reporter = live_server.user(locale=lang, name="Leila Berrada")
    many = [{"type": "ipv4", "value": f"185.220.101.{i}"} for i in range(12)]
    many += [
        {"type": "url", "value": "https://evil-update.example/payload/download.php?id=" + "a" * 80}
    ]
    with live_server.session() as session:
        slug = session.merge(reporter).organisation.slug
        data = full(tlp="amber", organisations=[slug], indicators=many)
        clock = live_server.clock
        bulletin = svc.create_draft(session, Actor.for_user(author), draft(**data), clock=clock)
        svc.submit(session, Actor.for_user(author), bulletin, clock=clock)
        svc.approve(session, Actor.for_user(second), bulletin, clock=clock)
        svc.publish(session, Actor.for_user(lead), bulletin, clock=clock,
                    settings=BulletinSettings())  # fmt: skip
        session.commit()
        return lead, reporter, bulletin.id


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_bulletin_page(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    lead, reporter, bulletin_id = _published(live_server, lang)
    for who, user in (("lead", lead), ("reporter", reporter)):
        page.context.clear_cookies()
        sign_in(page, user)
        page.goto(f"/bulletins/{bulletin_id}?lang={lang}")
        article = page.locator("article.bulletin")
        expect(article).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        expect(article.locator("h1")).to_have_text(TITLES[lang])
        banner = article.locator(".b-tlp")
        expect(banner).to_have_text("TLP:AMBER")
        colours = page.evaluate(
            "[getComputedStyle(document.querySelector('.b-tlp')).color,"
            " getComputedStyle(document.querySelector('.b-tlp')).backgroundColor]"
        )
        assert colours == ["rgb(255, 192, 0)", "rgb(0, 0, 0)"], colours
        expect(page.locator(f"a[href^='/bulletins/{bulletin_id}/download/pdf']")).to_be_visible()
        no_sideways_scroll(page)
        shoot(page, f"bulletin-{who}-{lang}-{size}")
    assert not watch.console_errors and not watch.dialogs, (watch.console_errors, watch.dialogs)
