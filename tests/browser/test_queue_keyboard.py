"""The dense queue in a real browser: every key column visible at 1366 × 768 in French, English
and Arabic (no sideways scroll, rows of at most 40 px), cards at 390 px, filter chips, the
column chooser, the keyboard shortcuts (j/k, x, o/Enter, /, a, g q, ?) and the "N new incidents"
notice that keeps the selection."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from core.identity.models import Role, User
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, languages, sign_in
from tests.kit.factories import make_org

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

KEY_COLUMNS = (
    "reference", "title", "organisation", "rsit", "tlp", "priority", "status", "assignee", "sla",
    "received",
)  # fmt: skip
LONG_TITLE = (
    "Hameçonnage ciblé visant la messagerie du cabinet du ministre avec pièce jointe piégée et "
    "lien vers une fausse page de connexion"
)


def rows(page: Page) -> Any:
    return page.locator(".vigie-queue tbody tr[data-href]")


def ministry_reporter(live_server: LiveServer) -> User:
    """A reporter of a ministry with a long French name, an Arabic name and a sector."""
    with live_server.session() as session:
        org = make_org(
            session,
            live_server.clock,
            name="Ministère de l'Économie, des Finances et de la Réforme de l'Administration",
            name_ar="وزارة الاقتصاد والمالية وإصلاح الإدارة",
            sector="finance",
        )
        session.commit()
    return live_server.user(org=org)


def a_busy_queue(live_server: LiveServer, word: str, count: int = 4) -> list[str]:
    reporter = ministry_reporter(live_server)
    return [
        live_server.incident(
            reporter, title=f"{LONG_TITLE} {word} {n}", tlp="TLP:AMBER+STRICT"
        ).reference
        for n in range(count)
    ]


def test_every_key_column_fits_at_1366_in_each_language(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any
) -> None:
    word = f"dense{secrets.token_hex(4)}"
    made = a_busy_queue(live_server, word)
    analyst = live_server.user(role=Role.ANALYST, name="Samira Benali-Alaoui El Idrissi")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, analyst)
    for lang, direction in languages(live_server):
        page.goto(f"/queue?q={word}&lang={lang}")
        expect(page.locator("html")).to_have_attribute("dir", direction)
        expect(rows(page)).to_have_count(len(made))
        width = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        scroller = page.locator(".vigie-queue-scroll")
        assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth")
        first = rows(page).first
        for key in KEY_COLUMNS:
            for cell in (
                page.locator(f".vigie-queue thead .col-{key}"),
                first.locator(f".col-{key}"),
            ):
                expect(cell).to_be_visible()
                box = cell.bounding_box()
                assert box is not None, key
                assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (lang, key, box)
        for key in ("reference", "tlp", "priority", "sla", "received"):  # never cut
            cell = first.locator(f".col-{key}")
            assert cell.evaluate("e => e.scrollWidth <= e.clientWidth"), (lang, key)
        for n in range(len(made)):
            box = rows(page).nth(n).bounding_box()
            assert box is not None and box["height"] <= 40, (lang, box)
        title = first.locator(".col-title .vigie-trunc")
        assert title.get_attribute("title", timeout=1000) == f"{LONG_TITLE} {word} {len(made) - 1}"
        organisation = first.locator(".col-organisation")
        if lang == "ar":  # the Arabic name, in the rows and the filter
            expect(organisation).to_contain_text("وزارة الاقتصاد")
            page.locator("summary", has_text="الهيئة").click()
            expect(page.locator("#queue-filters")).to_contain_text("وزارة الاقتصاد والمالية")
        else:
            expect(organisation).to_contain_text("Ministère de l'Économie")
        shoot(page, f"queue-1366-{lang}")
    assert watch.console_errors == []


def test_the_queue_is_a_list_of_cards_at_390_px(
    page: Page, live_server: LiveServer, shoot: Any
) -> None:
    word = f"phone{secrets.token_hex(4)}"
    made = a_busy_queue(live_server, word, count=2)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.user(role=Role.ANALYST))
    for lang in ("fr", "ar"):
        page.goto(f"/queue?q={word}&lang={lang}")
        expect(rows(page)).to_have_count(len(made))
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        card = rows(page).first.bounding_box()
        assert card is not None and card["width"] <= 390 and card["height"] > 60
        expect(rows(page).first.locator(".col-reference")).to_be_visible()
        expect(rows(page).first.locator(".col-status")).to_be_visible()
        page.locator("summary", has_text=re.compile("État|الحالة")).click()
        menu = page.locator("details[open] .vigie-dropdown-menu")
        expect(menu).to_be_visible()
        box = menu.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        shoot(page, f"queue-390-{lang}")


def test_filters_are_chips_and_dropdowns(page: Page, live_server: LiveServer) -> None:
    word = f"chips{secrets.token_hex(4)}"
    reporter = ministry_reporter(live_server)
    urgent = live_server.incident(
        reporter, title=f"Urgent {word}", impact="critical", urgency="critical"
    )
    live_server.incident(reporter, title=f"Minor {word}", impact="low", urgency="low")
    sign_in(page, live_server.user(role=Role.ANALYST))
    page.goto(f"/queue?q={word}&lang=en")
    expect(rows(page)).to_have_count(2)
    page.locator("summary", has_text="Priority").click()
    page.get_by_label("P1", exact=True).check()
    page.locator("details[open]").get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile("priority=P1"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text(urgent.reference)
    chips = page.locator(".vigie-chip")
    expect(chips).to_have_count(2)  # the search and P1
    page.get_by_role("link", name="Remove the filter Priority: P1").click()
    expect(rows(page)).to_have_count(2)
    expect(page).not_to_have_url(re.compile("priority="))
    expect(chips).to_have_count(1)
    page.goto("/queue?lang=en")  # the default view: open incidents, a chip too
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Status: Open")
    page.get_by_role("link", name="Remove the filter Status: Open").click()
    expect(page).to_have_url(re.compile(r"/queue\?status=$"))
    expect(chips).to_have_count(0)


def test_the_column_chooser_is_remembered(page: Page, live_server: LiveServer) -> None:
    word = f"cols{secrets.token_hex(4)}"
    a_busy_queue(live_server, word, count=1)
    sign_in(page, live_server.user(role=Role.ANALYST))
    page.goto(f"/queue?q={word}&lang=en")
    expect(page.locator(".vigie-queue thead .col-sector")).to_be_hidden()
    page.locator("summary", has_text="Columns").click()
    page.get_by_label("Sector", exact=True).check()
    page.get_by_label("TLP", exact=True).uncheck()
    expect(rows(page).first.locator(".col-sector")).to_have_text("Finance")
    expect(page.locator(".vigie-queue thead .col-tlp")).to_be_hidden()
    page.reload()
    expect(rows(page).first.locator(".col-sector")).to_be_visible()
    expect(page.locator(".vigie-queue thead .col-tlp")).to_be_hidden()
    page.goto(f"/queue?q={word}&lang=fr")
    expect(rows(page).first.locator(".col-sector")).to_have_text("Finances")
    page.locator("summary", has_text="Colonnes").click()
    page.get_by_role("button", name="Colonnes par défaut").click()
    expect(page.locator(".vigie-queue thead .col-tlp")).to_be_visible()
    expect(page.locator(".vigie-queue thead .col-sector")).to_be_hidden()


def test_keyboard_shortcuts(page: Page, live_server: LiveServer, watch: Watch, shoot: Any) -> None:
    word = f"keys{secrets.token_hex(4)}"
    made = a_busy_queue(live_server, word, count=3)  # newest first: made[2], made[1], made[0]
    analyst = live_server.user(role=Role.ANALYST, name="Karim Keyboard")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, analyst)
    page.goto("/account?lang=en")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Go to the queue")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("g")
    page.keyboard.press("q")
    expect(page).to_have_url(re.compile(r"/queue$"))

    page.goto(f"/queue?q={word}&lang=en")
    expect(rows(page)).to_have_count(3)
    page.keyboard.press("j")
    expect(rows(page).nth(0)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last row
    expect(rows(page).nth(2)).to_be_focused()
    page.keyboard.press("k")
    expect(rows(page).nth(1)).to_be_focused()
    expect(rows(page).nth(1)).to_have_attribute("aria-current", "true")
    page.keyboard.press("x")
    expect(rows(page).nth(1).locator("input[name=incident]")).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("1")
    page.keyboard.press("x")
    expect(rows(page).nth(1).locator("input[name=incident]")).not_to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("0")

    page.keyboard.press("/")  # search: the keys now type
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("jkx")
    expect(page.locator("#q")).to_have_value("jkx")
    expect(page.locator("[data-selected-count]")).to_have_text("0")
    page.locator("#q").fill(word)

    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    page.get_by_label("Select all on this page").uncheck()
    expect(page.locator("[data-selected-count]")).to_have_text("0")

    page.locator("#q").blur()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    shoot(page, "queue-shortcuts-en")
    page.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    for key in "kkkj":  # the first row, then the second: made[1]
        page.keyboard.press(key)
    expect(rows(page).nth(1)).to_be_focused()
    page.keyboard.press("a")  # assigned through the bulk form (CSRF), then back to the queue
    expect(page.locator(".alert-success")).to_contain_text("1 incidents updated")
    assignee = rows(page).filter(has_text=made[1]).locator(".col-assignee")
    expect(assignee).to_have_text("Karim Keyboard")
    expect(rows(page).filter(has_text=made[0]).locator(".col-assignee")).to_have_text("—")

    # the queue came back from the bulk form: its script listens again before a key is pressed
    # (on a loaded machine a key pressed earlier went nowhere)
    page.wait_for_load_state("load")  # every deferred script has run (queue.js's listeners)
    page.keyboard.press("j")
    expect(rows(page).filter(has_text=made[2])).to_be_focused()
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(f"/incidents/{made[2]}$"))
    page.go_back()
    expect(rows(page)).to_have_count(3)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/incidents/{made[1]}$"))
    assert watch.console_errors == []


def test_new_incidents_are_announced_and_the_selection_kept(
    page: Page, live_server: LiveServer, shoot: Any
) -> None:
    word = f"fresh{secrets.token_hex(4)}"
    reporter = ministry_reporter(live_server)
    live_server.incident(reporter, title=f"First {word}")
    live_server.incident(reporter, title=f"Second {word}")
    sign_in(page, live_server.user(role=Role.ANALYST))
    page.clock.install()
    page.goto(f"/queue?q={word}&lang=en")
    expect(rows(page)).to_have_count(2)
    rows(page).nth(1).locator("input[name=incident]").check()
    notice = page.locator("#queue-new")
    page.clock.run_for(31_000)
    expect(notice).to_be_hidden()  # nothing new yet
    live_server.incident(reporter, title=f"Third {word}")
    live_server.incident(reporter, title=f"Other words {secrets.token_hex(4)}")  # not this filter
    page.clock.run_for(31_000)
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("1 new incident")
    expect(rows(page)).to_have_count(2)  # nothing reloaded
    expect(rows(page).nth(1).locator("input[name=incident]")).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("1")
    shoot(page, "queue-new-incidents-en")
    page.get_by_role("link", name="show").click()
    expect(rows(page)).to_have_count(3)
    expect(page).to_have_url(re.compile(f"q={word}"))
    expect(rows(page).nth(2).locator("input[name=incident]")).to_be_checked()  # still selected
    expect(page.locator("[data-selected-count]")).to_have_text("1")


def test_the_bulk_bar_stays_in_view(page: Page, live_server: LiveServer) -> None:
    word = f"sticky{secrets.token_hex(4)}"
    a_busy_queue(live_server, word, count=12)
    page.set_viewport_size({"width": 1366, "height": 420})
    sign_in(page, live_server.user(role=Role.ANALYST))
    page.goto(f"/queue?q={word}&lang=en")
    expect(rows(page)).to_have_count(12)
    rows(page).last.scroll_into_view_if_needed()
    page.mouse.wheel(0, 2000)
    page.wait_for_function("window.scrollY > 200")
    bar = page.locator(".vigie-bulkbar")
    box = bar.bounding_box()
    assert box is not None and -1 <= box["y"] <= 1, box  # stuck to the top of the window
    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-selected-count]")).to_have_text("12")
    expect(page.locator(".vigie-queue tbody input[name=incident]:checked")).to_have_count(12)
    # the bar shows the fields of the chosen action only
    expect(page.locator("#bulk-assignee")).to_be_hidden()
    page.select_option("#bulk-action", "status")
    expect(page.locator("#bulk-status")).to_be_visible()
    expect(page.locator("#bulk-resolution")).to_be_visible()
    expect(page.locator("#bulk-priority")).to_be_hidden()
    page.select_option("#bulk-action", "assign")
    expect(page.locator("#bulk-assignee")).to_be_visible()
    expect(page.locator("#bulk-status")).to_be_hidden()
