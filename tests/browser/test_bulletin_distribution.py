"""A lead in a real browser manages distribution lists, sees the TLP refuse a publication (the
button disabled, the refused addresses in red), then publishes to the right list and follows the
deliveries; an organisation's account manages its own extra addresses — in French and Arabic,
at 1366 px and on a 390 px phone, the pages never scrolling sideways; screenshots of each."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bulletins.authoring import services as svc
from bulletins.models import ListKind
from core.identity.authz import Actor
from core.identity.models import Role
from tests.browser.conftest import LiveServer, browser_or_skip, no_sideways_scroll, sign_in
from tests.bulletins.lists import make_list
from tests.bulletins.test_authoring import draft
from tests.kit.factories import make_org, make_user

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}


def _setup(live: LiveServer, key: str, lang: str) -> dict[str, Any]:
    clock = live.clock
    with live.session() as session:
        cert = make_org(session, clock, slug=f"cert-{key}", kind="cert")
        interieur = make_org(session, clock, slug=f"interieur-{key}", sector=f"gov-{key}",
                             name="Ministère de l'Intérieur", name_ar="وزارة الداخلية")  # fmt: skip
        sante = make_org(session, clock, slug=f"sante-{key}", sector=f"health-{key}",
                         name="Ministère de la Santé", name_ar="وزارة الصحة")  # fmt: skip
        interieur.contact_emails = [f"soc@interieur-{key}.gov.ma"]
        sante.contact_emails = [f"soc@sante-{key}.gov.ma"]
        analyst = make_user(session, clock, role=Role.ANALYST, org=cert, locale=lang,
                            email=f"analyst-{key}@cert.gov.ma")  # fmt: skip
        lead = make_user(session, clock, role=Role.LEAD, org=cert, locale=lang,
                         email=f"lead-{key}@cert.gov.ma", name="Hicham Lead")  # fmt: skip
        reporter = make_user(session, clock, org=interieur, locale=lang,
                             email=f"rssi@interieur-{key}.gov.ma")  # fmt: skip
        make_list(session, clock, f"all-{key}", ListKind.ALL)
        make_list(
            session,
            clock,
            f"interieur-{key}",
            ListKind.ORGANISATION,
            organisation_id=interieur.id,
            members=[{"email": f"dsi@interieur-{key}.gov.ma", "name": "DSI", "language": "ar"}],
        )
        ids = {}
        for name, lists in (("refused", [f"all-{key}"]), ("allowed", [f"interieur-{key}"])):
            author = Actor.for_user(analyst)
            bulletin = svc.create_draft(session, author, draft(tlp="amber", lists=lists,
                                        organisations=[interieur.slug]), clock=clock)  # fmt: skip
            svc.submit(session, author, bulletin, clock=clock)
            svc.approve(session, Actor.for_user(make_user(
                session, clock, role=Role.LEAD, org=cert, email=f"{name}-{key}@cert.gov.ma")),
                bulletin, clock=clock)  # fmt: skip
            ids[name] = bulletin.id
        session.commit()
    return {"lead": lead, "reporter": reporter, **ids}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_lists_publish_and_deliveries(
    page: Page, live_server: LiveServer, shoot: Any, lang: str, size: str
) -> None:
    key = f"{lang}{size}"
    data = _setup(live_server, key, lang)
    page.set_viewport_size(SIZES[size])
    sign_in(page, data["lead"])
    page.goto("/bulletins/lists")
    expect(page.locator("main table")).to_contain_text(f"all-{key}")
    no_sideways_scroll(page)
    shoot(page, f"dist-lists-{key}")
    page.goto(f"/bulletins/lists/interieur-{key}")
    expect(page.locator("#recipient-count")).to_contain_text(re.compile("2 adresses|عنوانان"))
    no_sideways_scroll(page)
    shoot(page, f"dist-list-detail-{key}")

    page.goto(f"/bulletins/{data['refused']}/publish")
    expect(page.locator(".alert-danger")).to_contain_text(f"soc@sante-{key}.gov.ma")
    expect(page.locator("main form button.btn-danger")).to_be_disabled()
    no_sideways_scroll(page)
    shoot(page, f"dist-publish-refused-{key}")

    page.goto(f"/bulletins/{data['allowed']}/publish")
    expect(page.locator("main form button.btn-danger")).to_be_enabled()
    no_sideways_scroll(page)
    shoot(page, f"dist-publish-{key}")
    page.locator("main form button.btn-danger").click()
    expect(page.locator(".vigie-flashes")).to_contain_text("MACERT-AVI-")
    page.locator("main .bulletin-actions a[href$='/deliveries']").click()  # the bulletin page's
    expect(page.locator("main table")).to_contain_text(f"dsi@interieur-{key}.gov.ma")
    no_sideways_scroll(page)
    shoot(page, f"dist-deliveries-{key}")


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_an_organisation_manages_its_extra_addresses(
    page: Page, live_server: LiveServer, shoot: Any, lang: str
) -> None:
    key = f"self{lang}"
    data = _setup(live_server, key, lang)
    page.set_viewport_size(SIZES["390"])
    sign_in(page, data["reporter"])
    page.goto("/bulletins/my-lists")
    page.locator(f"main a[href='/bulletins/lists/interieur-{key}']").click()
    page.fill("#email", f"astreinte@interieur-{key}.gov.ma")
    page.locator("main form[action$='/members'] button[type=submit]").click()
    expect(page.locator("main table")).to_contain_text(f"astreinte@interieur-{key}.gov.ma")
    no_sideways_scroll(page)
    shoot(page, f"dist-self-service-{key}")
    assert page.goto(f"/bulletins/lists/all-{key}").status == 404  # type: ignore[union-attr]
