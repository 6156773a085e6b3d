"""A lead in a real browser reads the triggers and schedules overview, opens the trigger and
schedule forms and gets their refusals under the fields — in French and Arabic, at 1366 px and
on a 390 px phone; the pages never scroll sideways; screenshots of each."""

from __future__ import annotations

from typing import Any

import pytest

from core.identity.authz import Actor
from core.identity.models import Role
from playbooks.automation import services as svc
from playbooks.settings import PlaybookSettings
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, no_sideways_scroll, sign_in
from tests.kit.factories import make_org
from tests.playbooks.automation_kit import check_playbook, response_playbook

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
WORDS = {
    "fr": ("Déclencheurs et planifications", "chaque jour à 07:00", "hors des classes choisies"),
    "ar": ("المشغّلات والجدولات", "كل يوم على الساعة 07:00", "خارج الأصناف المختارة"),
}


def _automation(live_server: LiveServer, suffix: str) -> tuple[int, int]:
    clock = live_server.clock
    with live_server.session() as session:
        lead = Actor.system("test")
        org = make_org(session, clock, slug=f"min-eau-{suffix}", name="Ministère de l'Eau",
                       name_ar="وزارة الماء", sector="water")  # fmt: skip
        response = response_playbook(session, clock, f"Rançongiciel {suffix}")
        check = check_playbook(session, clock, f"Exposition {suffix}")
        svc.add_trigger(session, lead, response.cacao_id, {"event": "classified", "conditions": {
            "categories": ["malicious-code"], "types": ["infected-system"], "min_priority": "P2",
            "tlp": ["TLP:AMBER", "TLP:RED"], "sectors": ["water"]}}, clock=clock)  # fmt: skip
        svc.add_schedule(session, lead, check.cacao_id, {"cron": "0 7 * * *"}, clock=clock,
                         settings=PlaybookSettings())  # fmt: skip
        svc.add_schedule(session, lead, check.cacao_id, {"cron": "30 8 * * 1-5",
                         "organisation_ids": [org.id], "enabled": False}, clock=clock,
                         settings=PlaybookSettings())  # fmt: skip
        session.commit()
        return response.id, check.id


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_lead_reads_and_edits_triggers_and_schedules(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    lead = live_server.user(role=Role.LEAD, locale=lang, name="Hicham Lead")
    response_id, check_id = _automation(live_server, f"{lang}{size}")
    sign_in(page, lead)

    page.goto("/playbooks/automation")
    expect(page.locator("main h1")).to_have_text(WORDS[lang][0])
    expect(page.locator("main").get_by_text(WORDS[lang][1]).first).to_be_attached()
    no_sideways_scroll(page)
    shoot(page, f"automation-{lang}-{size}")

    page.goto(f"/playbooks/{response_id}/triggers/new")
    page.locator("input[name=categories][value=fraud]").check()
    page.locator("input[name=types][value=ddos]").check()
    page.locator("main form [type=submit]").click()
    expect(page.locator(".text-danger").first).to_contain_text(WORDS[lang][2])
    no_sideways_scroll(page)
    shoot(page, f"automation-trigger-form-{lang}-{size}")

    page.goto(f"/playbooks/{check_id}/schedules/new")
    page.fill("#cron", "0 7 * *")
    page.locator("main form [type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"automation-schedule-form-{lang}-{size}")
    errors = [e for e in watch.console_errors if "422" not in e]  # the refused forms' status
    assert not errors and not watch.dialogs, (errors, watch.dialogs)
