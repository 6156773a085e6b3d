"""A lead in a real browser reads the feeds (state, last run, counts, next poll), opens a
feed's run history with its rejections, presses "Poll now" and reads the result, and opens the
add form (list and TAXII settings) — in French and Arabic, at 1366 px and on a 390 px phone;
the pages never scroll sideways; screenshots of each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.identity.authz import Actor
from core.identity.models import Role, User
from feeds.index.store import StoreCounts
from feeds.models import RunTrigger
from feeds.sources.runs import finish_run, start_run
from feeds.sources.services import add_feed
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, no_sideways_scroll, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
WORDS = {
    "fr": ("Flux de renseignement sur les menaces", "L'interrogation de", "Exécutions"),
    "ar": ("تغذيات استخبارات التهديدات", "فشل استطلاع", "التشغيلات"),
}


def _feeds(live_server: LiveServer, lead: User, suffix: str) -> str:
    """Two feeds: a TAXII collection with a partial run (rejections), a disabled CSV list."""
    now = live_server.clock.now()
    actor = Actor.for_user(lead)
    with live_server.session() as session:
        taxii = add_feed(
            session,
            actor,
            {
                "name": f"cert-partenaire-{suffix}",
                "kind": "taxii",
                "url": "https://127.0.0.1:9/taxii2/",
                "collection": "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
                "username": "macert",
                "password_env": "PARTNER_TAXII_PASSWORD",
                "interval_seconds": 3600,
                "tlp": "TLP:AMBER",
            },
            now=now - dt.timedelta(hours=2),
        )
        add_feed(
            session,
            actor,
            {
                "name": f"urlhaus-{suffix}",
                "kind": "csv",
                "url": "https://urlhaus.abuse.ch/downloads/text_online/",
                "value_type": "url",
                "tlp": "TLP:CLEAR",
                "interval_seconds": 900,
                "enabled": False,
            },
            now=now,
        )
        run = start_run(session, taxii, RunTrigger.SCHEDULE, now=now - dt.timedelta(minutes=30))
        counts = StoreCounts(new=1204, updated=37, unchanged=12, revoked=3, expired=8, rejected=2)
        counts.rejections = [
            {"ref": "indicator--0b6c1f2e-7d4b-4c55-9d0c-2f2b1e6a9a11", "reason": "invalid pattern"},
            {"ref": "indicator--8d1f7b3c-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "reason": "no valid_from"},
        ]
        finish_run(session, run, counts, now=now - dt.timedelta(minutes=29))
        session.commit()
        return taxii.name


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_lead_reads_and_polls_the_feeds(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    lead = live_server.user(role=Role.LEAD, locale=lang, name="Hicham Lead")
    name = _feeds(live_server, lead, f"{lang}-{size}")
    sign_in(page, lead)

    page.goto("/feeds")
    expect(page.locator("main h1")).to_have_text(WORDS[lang][0])
    expect(page.locator(f"a[href='/feeds/{name}']:visible")).to_have_count(1)
    no_sideways_scroll(page)
    shoot(page, f"feeds-list-{lang}-{size}")

    page.goto(f"/feeds/{name}")
    expect(page.locator("main h2")).to_have_text(WORDS[lang][2])
    page.locator("details summary").first.click()
    expect(page.locator("details li").first).to_contain_text("invalid pattern")
    no_sideways_scroll(page)
    shoot(page, f"feeds-runs-{lang}-{size}")

    page.locator("main form[action$='/poll'] button").click()
    flash = page.locator(".vigie-flashes")
    expect(flash).to_contain_text(WORDS[lang][1])
    expect(flash).to_contain_text("PARTNER_TAXII_PASSWORD")  # the secret is not set here
    no_sideways_scroll(page)
    shoot(page, f"feeds-polled-{lang}-{size}")

    page.goto("/feeds/new")
    page.fill("#f-name", "Bad name")
    page.select_option("#f-kind", "taxii")
    page.fill("#f-url", "ftp://example.org/")
    page.locator("main form.vigie-feed-form [type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"feeds-form-{lang}-{size}")
    errors = [e for e in watch.console_errors if "422" not in e]  # the refused form's status
    assert not errors and not watch.dialogs, (errors, watch.dialogs)
