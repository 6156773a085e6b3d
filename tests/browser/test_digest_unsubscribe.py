"""Leaving a list's digests in a real browser, signed out: the confirmation page (nothing
changes on opening it), the button, the confirmation; a forged link's page — in French and
Arabic (RTL) at 1366 × 768 and on a 390 px phone; screenshots kept and looked at."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bulletins.digests import tokens
from bulletins.models import DigestFrequency, DistributionList, ListKind, ListUnsubscribe
from tests.browser.conftest import SECRET_KEY, LiveServer, browser_or_skip

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser
SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
TEXTS = {
    "fr": ("Se désabonner des récapitulatifs", "Se désabonner", "Désabonnement enregistré",
           "Lien de désabonnement invalide"),
    "ar": ("إلغاء الاشتراك في الملخصات", "إلغاء الاشتراك", "تم إلغاء الاشتراك",
           "رابط إلغاء الاشتراك غير صالح"),
}  # fmt: skip


def a_list(live_server: LiveServer, slug: str) -> int:
    with live_server.session() as session:
        now = live_server.clock.now()
        dlist = DistributionList(
            slug=slug, name="Veille des ministères", kind=ListKind.NAMED,
            digest=DigestFrequency.WEEKLY, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(dlist)
        session.commit()
        return dlist.id


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", list(TEXTS))
def test_unsubscribe_page_confirm_then_done(
    page: Page, live_server: LiveServer, shoot: Any, lang: str, size: str
) -> None:
    title, button, done, invalid = TEXTS[lang]
    list_id = a_list(live_server, f"veille-{lang}-{size}")
    email = f"veille.{lang}.{size}@interieur.gov.ma"
    token = tokens.sign(SECRET_KEY, list_id, email)
    page.set_viewport_size(SIZES[size])  # type: ignore[arg-type]
    page.goto(f"/advisories/unsubscribe/{token}?lang={lang}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("main")).to_contain_text(email)
    shoot(page, f"digest-unsubscribe-{lang}-{size}")
    with live_server.session() as session:  # opening the page changed nothing
        mine = select(ListUnsubscribe).where(ListUnsubscribe.list_id == list_id)
        assert session.scalars(mine).all() == []
    page.get_by_role("button", name=button).click()
    expect(page.locator("h1")).to_have_text(done)
    shoot(page, f"digest-unsubscribed-{lang}-{size}")
    with live_server.session() as session:
        left = session.scalars(select(ListUnsubscribe).where(ListUnsubscribe.list_id == list_id))
        assert [u.email for u in left] == [email]

    forged = tokens.sign("another-secret-" + "y" * 32, list_id, email)
    response = page.goto(f"/advisories/unsubscribe/{forged}?lang={lang}")
    assert response is not None and response.status == 400
    expect(page.locator("h1")).to_have_text(invalid)
    shoot(page, f"digest-unsubscribe-invalid-{lang}-{size}")
