"""A lead in a real browser sees distribution lists and playbook triggers and schedules scoped to
a vigilance centre — in French and Arabic (right to left): the lists page with the centre's name
in its *Covers* column and the centre choice of the new-list form, the automation overview with
the centre condition and "Constituency of …", the schedule form refusing a centre together with
organisations under the centre field; screenshots of each."""

from __future__ import annotations

from typing import Any

import pytest

from bulletins.distribution import services as lists
from core.identity.authz import Actor
from core.identity.models import Role
from playbooks.automation import services as svc
from playbooks.settings import PlaybookSettings
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, sign_in
from tests.kit.constituency import make_centre
from tests.kit.factories import make_org
from tests.playbooks.automation_kit import check_playbook, response_playbook

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

NAMES = {"fr": "Centre de veille — Santé", "ar": "مركز اليقظة — الصحة"}


def _scene(live_server: LiveServer, lead: Actor, lang: str) -> tuple[int, int]:
    clock = live_server.clock
    with live_server.session() as session:
        org = make_org(session, clock, slug=f"chu-{lang}", name="CHU Ibn Rochd",
                       name_ar="المركز الاستشفائي ابن رشد", sector="health")  # fmt: skip
        org.contact_emails = [f"soc@chu-{lang}.ma"]
        centre = make_centre(session, clock, f"sante-{lang}", sectors=["health"],
                             name=NAMES["fr"], name_ar=NAMES["ar"])  # fmt: skip
        lists.create_list(session, lead, slug=f"centre-sante-{lang}", name="Santé", kind="centre",
                          centre=centre.slug, clock=clock)  # fmt: skip
        response = response_playbook(session, clock, f"Réponse {lang}")
        check = check_playbook(session, clock, f"Exposition {lang}")
        svc.add_trigger(session, lead, response.cacao_id, {"event": "created", "conditions": {
            "centres": [centre.slug]}}, clock=clock)  # fmt: skip
        svc.add_schedule(session, lead, check.cacao_id, {"cron": "0 7 * * *",
                         "centre": centre.slug}, clock=clock,
                         settings=PlaybookSettings())  # fmt: skip
        session.commit()
        return check.id, org.id


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_lead_sees_centre_scoped_lists_triggers_and_schedules(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str
) -> None:
    user = live_server.user(role=Role.LEAD, locale=lang, name="Hicham Lead")
    check_id, org_id = _scene(live_server, Actor.for_user(user), lang)
    sign_in(page, user)

    page.goto("/bulletins/lists")
    row = page.locator("main tr", has_text=f"centre-sante-{lang}")
    expect(row).to_contain_text(NAMES[lang])
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    page.select_option("#kind", "centre")
    expect(page.locator(f"#centre option[value=sante-{lang}]")).to_have_text(NAMES[lang])
    shoot(page, f"centre-lists-{lang}")

    page.goto("/playbooks/automation")
    expect(page.locator("main").get_by_text(NAMES[lang]).first).to_be_visible()
    shoot(page, f"centre-automation-{lang}")

    page.goto(f"/playbooks/{check_id}/schedules/new")
    page.fill("#cron", "0 7 * * *")
    page.locator(f"input[name=organisation_ids][value='{org_id}']").check()
    page.select_option("#centre", f"sante-{lang}")
    page.locator("main form [type=submit]").click()
    expect(page.locator("#centre.is-invalid")).to_be_visible()
    shoot(page, f"centre-schedule-refused-{lang}")
    errors = [e for e in watch.console_errors if "422" not in e]
    assert not errors and not watch.dialogs, (errors, watch.dialogs)
