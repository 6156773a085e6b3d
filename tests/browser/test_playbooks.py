"""A lead in a real browser reads the playbooks: the list, a playbook's detail with its workflow
drawn as SVG (visible, no console error, no CSP violation), a run's step log and the incident
file's Playbooks panel — in French and Arabic, at 1366 px and on a 390 px phone; the pages never
scroll sideways (the drawing scrolls inside its frame); screenshots of each."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.identity.authz import Actor
from core.identity.models import Role
from playbooks.library.services import import_playbook
from tests.browser.conftest import LiveServer, Watch, browser_or_skip, no_sideways_scroll, sign_in
from tests.playbooks.cacao_kit import text
from tests.playbooks.graph_kit import every_step_type
from tests.playbooks.pages_kit import run

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
WORDS = {"fr": ("Playbooks", "Déroulé", "Journal des étapes"),
         "ar": ("أدلة الاستجابة", "سير العمل", "سجل الخطوات")}  # fmt: skip


def _world(live_server: LiveServer, lang: str) -> tuple[Any, int, int, str]:
    """A lead, a playbook with every step type (one step named in Arabic), an incident with a
    run waiting on a step."""
    lead = live_server.user(role=Role.LEAD, locale=lang, name="Hicham Lead")
    reporter = live_server.user(locale=lang)
    incident = live_server.incident(reporter)
    doc, ids = every_step_type()
    doc["id"] = f"playbook--{uuid.uuid4()}"
    doc["name"] = "Rançongiciel — réponse initiale"
    doc["workflow"][ids["a2"]]["name"] = "إبلاغ الوزارة المعنية فورًا بالحادث"
    with live_server.session() as session:
        book = import_playbook(session, Actor.system("test"), text(doc), clock=live_server.clock)
        waiting = run(session, live_server.clock, book.playbook, incident=incident,
                      key=f"browser:{uuid.uuid4()}")  # fmt: skip
        session.commit()
        return lead, book.playbook.id, waiting.id, incident.reference


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_lead_reads_a_playbook_its_graph_and_its_runs(
    page: Page, live_server: LiveServer, watch: Watch, shoot: Any, lang: str, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    lead, playbook_id, run_id, reference = _world(live_server, lang)
    sign_in(page, lead)

    page.goto("/playbooks")
    expect(page.locator("main h1")).to_have_text(WORDS[lang][0])
    expect(page.locator(f"main a[href='/playbooks/{playbook_id}']:visible")).to_have_count(1)
    no_sideways_scroll(page)
    shoot(page, f"playbooks-list-{lang}-{size}")

    page.goto(f"/playbooks/{playbook_id}")
    expect(page.locator("#graph-title")).to_have_text(WORDS[lang][1])
    graph = page.locator("svg.pb-graph")
    expect(graph).to_be_visible()
    expect(graph.locator("g.pb-node")).to_have_count(15)
    box = graph.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 500
    # the stylesheet reached the drawing: the start circle is filled green, not black
    fill = page.evaluate("getComputedStyle(document.querySelector('.pb-start .pb-shape')).fill")
    assert fill == "rgb(0, 98, 51)", fill
    no_sideways_scroll(page)
    shoot(page, f"playbooks-detail-{lang}-{size}")

    page.goto(f"/playbooks/runs/{run_id}")
    expect(page.locator("#log-title")).to_have_text(WORDS[lang][2])
    page.locator("details summary").first.click()
    expect(page.locator("pre.pb-json").first).to_contain_text("pc-12")
    no_sideways_scroll(page)
    shoot(page, f"playbooks-run-{lang}-{size}")

    page.goto(f"/incidents/{reference}")
    panel = page.locator("#playbooks")
    expect(panel).to_be_visible()
    expect(panel.locator(f"a[href='/playbooks/runs/{run_id}']")).to_be_visible()
    panel.scroll_into_view_if_needed()
    no_sideways_scroll(page)
    shoot(page, f"playbooks-panel-{lang}-{size}")
    assert not watch.console_errors and not watch.dialogs, (watch.console_errors, watch.dialogs)

    page.goto("/playbooks/import")
    page.fill("#text", '{"type": "playbook", "spec_version": "cacao-1.0", "id": "x"}')
    page.locator("main form.pb-import [type=submit]").click()
    problems = page.locator("#problems li")
    expect(problems.first).to_be_visible()
    assert problems.count() >= 8  # every missing property and every bad value, with its path
    expect(page.locator("#problems")).to_contain_text("$.workflow_start")
    no_sideways_scroll(page)
    shoot(page, f"playbooks-import-{lang}-{size}")
    errors = [e for e in watch.console_errors if "422" not in e]  # the refused form's status
    assert not errors, errors
