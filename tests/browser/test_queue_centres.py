"""A centre's queue and the national view in a real browser (issue 22's screenshots): two sectoral
centres (health, finance) with incidents in each; the health analyst lands on their centre's
queue (the centre chip pre-set, removable), the national analyst sees every centre with the
centre column and filter; French and Arabic, 1366 px and 390 px, no column spilling out of the
page. The screenshots are also copied to ``$CERT_SHOTS`` (default ``/work/notes/shots``) as
``queue-<view>-<lang>-<width>.png``."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.auth import services as accounts
from core.identity.centres import Centre
from core.identity.models import Organisation, OrganisationKind, Role, User
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in
from tests.kit.factories import MINIMAL, PASSWORD, SYSTEM, make_org, make_user, report

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("CERT_SHOTS", "/work/notes/shots"))
WIDTHS = (1366, 390)
CENTRES = (
    ("sante", "Centre de veille santé", "مركز اليقظة للصحة", "health"),
    ("finances", "Centre de veille finances", "مركز اليقظة للمالية", "finance"),
)
TITLES = {
    "health": ("Rançongiciel sur le serveur de l’hôpital", "Fuite de dossiers patients"),
    "finance": ("Hameçonnage visant la trésorerie", "Virement frauduleux signalé"),
}


def _centre(live_server: LiveServer, slug: str, name: str, name_ar: str, sector: str) -> Centre:
    with live_server.session() as session:
        found = session.scalar(select(Centre).where(Centre.slug == slug))
        if found is None:
            now = live_server.clock.now()
            found = Centre(
                slug=slug, name=name, name_ar=name_ar, sectors=[sector], regions=[],
                categories=[], working_hours={}, created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(found)
            session.commit()
        return found


def _scene(live_server: LiveServer, word: str) -> tuple[User, User, dict[str, list[str]]]:
    """The centres, a ministry and two incidents per sector, the health centre's analyst and a
    national analyst; the references per sector."""
    clock = live_server.clock
    centres = {sector: _centre(live_server, slug, n, ar, sector) for slug, n, ar, sector in CENTRES}
    made: dict[str, list[str]] = {}
    with live_server.session() as session:
        orgs = {
            "health": ("Ministère de la Santé", "وزارة الصحة"),
            "finance": ("Ministère de l’Économie et des Finances", "وزارة الاقتصاد والمالية"),
        }
        for sector, (name, name_ar) in orgs.items():
            org: Organisation = make_org(
                session, clock, name=name, name_ar=name_ar, sector=sector,
                kind=OrganisationKind.MINISTRY,
            )  # fmt: skip
            reporter = make_user(session, clock, org=org)
            made[sector] = [
                report(
                    session, clock, reporter, MINIMAL, settings=live_server.intake,
                    title=f"{title} {word}",
                ).reference
                for title in TITLES[sector]
            ]  # fmt: skip
        cert = make_org(session, clock, kind=OrganisationKind.CERT)
        health_analyst = accounts.create_user(
            session, SYSTEM, email=f"sante-{word}@macert.gov.ma", name="Salma Bennani",
            role=Role.ANALYST, organisation=cert, password=PASSWORD, clock=clock,
            centre=session.merge(centres["health"]),
        )  # fmt: skip
        national = make_user(session, clock, role=Role.ANALYST, org=cert, name="Nadia Alaoui")
        session.commit()
    return health_analyst, national, made


def _no_overflow(page: Page) -> None:
    """Nothing wider than the window: the page never scrolls sideways (the wide table scrolls
    inside its own box at 1366 px; at 390 px the rows are cards)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the window"


def _shoot(page: Page, shoot: Any, name: str) -> None:
    path: Path = shoot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS / f"{name}.png")


def test_a_centres_queue_and_the_national_view(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    word = f"v{secrets.token_hex(3)}"
    health_analyst, national, made = _scene(live_server, word)
    sqlite = live_server.database.backend == "sqlite"
    languages = ("fr", "ar") if sqlite else ("fr",)
    rows = page.locator(".vigie-queue tbody tr")

    sign_in(page, health_analyst)
    for lang in languages:
        for width in WIDTHS if sqlite else WIDTHS[:1]:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"/queue?lang={lang}")
            expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
            chip = page.locator(
                ".vigie-chip",
                has=page.locator(
                    "bdi",
                    has_text="مركز اليقظة للصحة" if lang == "ar" else "Centre de veille santé",
                ),
            )
            expect(chip).to_have_count(1)
            for reference in made["health"]:
                expect(page.locator(".vigie-queue tbody")).to_contain_text(reference)
            for reference in made["finance"]:
                expect(page.locator(".vigie-queue tbody")).not_to_contain_text(reference)
            _no_overflow(page)
            _shoot(page, shoot, f"queue-centre-{lang}-{width}")
    # the chip is removable: the analyst's other incidents (none in another centre here)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/queue?lang=fr")
    page.locator(".vigie-chip", has_text="Centre de veille santé").locator(
        ".vigie-chip-remove"
    ).click()
    expect(page.locator(".vigie-chip", has_text="Centre de veille santé")).to_have_count(0)
    page.context.clear_cookies()

    sign_in(page, national)
    for lang in languages:
        for width in WIDTHS if sqlite else WIDTHS[:1]:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"/queue?lang={lang}&q={word}&status=open")
            expect(rows).to_have_count(4)
            column = page.locator(".vigie-queue tbody td.col-centre")
            expect(
                column.filter(
                    has_text="مركز اليقظة للمالية" if lang == "ar" else "Centre de veille finances"
                )
            ).to_have_count(2)
            _no_overflow(page)
            _shoot(page, shoot, f"queue-national-{lang}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/queue?lang=fr&q={word}")
    menu = page.locator("details", has=page.locator("summary", has_text="Centre"))
    menu.locator("summary").click()
    menu.locator("input[name=centre][value=finances]").check()  # other tests name centres alike
    menu.get_by_role("button", name="Appliquer", exact=True).click()
    expect(rows).to_have_count(2)
    expect(page.locator(".vigie-queue tbody")).to_contain_text(made["finance"][0])
    for lang in languages:
        page.goto(f"/dashboard?lang={lang}")
        expect(page.locator(".vigie-per-centre")).to_contain_text(
            "مركز اليقظة للصحة" if lang == "ar" else "Centre de veille santé"
        )
        _no_overflow(page)
        _shoot(page, shoot, f"queue-dashboard-national-{lang}-1366")
    assert watch.console_errors == []
