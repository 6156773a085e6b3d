"""An analyst in a real browser imports a vendor's CSAF advisory (fr and ar, 1366 px and a 390 px
phone): the empty form, a refused document with its problems listed, then a real advisory that
lands on the new draft's address; the page never scrolls sideways; screenshots of each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from core.identity.models import Role
from tests.browser.conftest import LiveServer, browser_or_skip, no_sideways_scroll, sign_in

browser_or_skip(module=True)

from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser
SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
WORDS = {
    "fr": ("Importer un avis CSAF", "Le document a été refusé"),
    "ar": ("استيراد نشرة CSAF", "رُفض المستند"),
}
BSI = Path(__file__).resolve().parent.parent / "data" / "csaf" / "vendors" / "bsi-2022-0001.json"


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", list(WORDS))
def test_an_analyst_imports_a_csaf_advisory(
    page: Page, live_server: LiveServer, shoot: Any, lang: str, size: str, tmp_path: Path
) -> None:
    page.set_viewport_size(SIZES[size])
    analyst = live_server.user(role=Role.ANALYST, locale=lang, name="Amine Analyste")
    sign_in(page, analyst)
    page.goto("/bulletins/import-csaf")
    expect(page.locator("main h1")).to_have_text(WORDS[lang][0])
    no_sideways_scroll(page)
    shoot(page, f"csaf-import-{lang}-{size}")

    broken = json.loads(BSI.read_text("utf-8"))
    broken["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-9999")
    broken["document"]["tracking"]["version"] = "7"
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(broken))
    page.set_input_files("input[name=document]", str(bad))
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#problems")).to_contain_text(WORDS[lang][1])
    expect(page.locator("#problems li")).to_have_count(2)
    no_sideways_scroll(page)
    shoot(page, f"csaf-import-refused-{lang}-{size}")

    page.set_input_files("input[name=document]", str(BSI))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/bulletins/\d+$"))
