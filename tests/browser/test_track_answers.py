"""The reporter's answer with a file and the PDF download on /track, in a real browser (issue 17):
French, English and Arabic at 1366 × 768 and on a 390 px phone; an empty file refused in the page's
language; the analyst's file with both PDF versions. Screenshots in test-artifacts/browser/, the
downloaded Arabic PDF's pages in test-artifacts/pdf/."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.identity.models import Role
from incidents.models import Attachment, IncidentEvent
from tests.browser.conftest import ARTIFACTS, LiveServer, Watch, browser_or_skip, sign_in

browser_or_skip(module=True)
from playwright.sync_api import Page, expect  # noqa: E402  (only once it is known to be there)

pytestmark = pytest.mark.browser

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
PDF_ARTIFACTS = ARTIFACTS.parent / "pdf"
LOG = b"2026-01-15 08:12 POST /login from 203.0.113.66\n"
MESSAGES = {
    "fr": ("Voici le journal du proxy.", "Télécharger le rapport (PDF)", "est vide"),
    "en": ("Here is the proxy log.", "Download the report (PDF)", "is empty"),
    "ar": ("إليكم سجل الخادم الوكيل.", "تنزيل التقرير (PDF)", "فارغ"),
}


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", list(MESSAGES))
def test_the_reporter_answers_with_a_file_and_downloads_the_pdf(
    page: Page,
    live_server: LiveServer,
    watch: Watch,
    shoot: Any,
    tmp_path: Path,
    lang: str,
    size: str,
) -> None:
    message, pdf_link, empty = MESSAGES[lang]
    reporter = live_server.user(name="Leila Berrada", locale=lang)
    incident = live_server.incident(
        reporter,
        title="Hameçonnage - hxxps://evil[.]example/login",
        description="Lien hxxps://evil[.]example/login reçu de 203.0.113.9.",
    )
    page.set_viewport_size(SIZES[size])
    sign_in(page, reporter)
    page.goto(f"/track/{incident.reference}?lang={lang}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")

    # an empty file first: refused in the page's language, nothing kept
    page.fill("#answer-body", message)
    page.set_input_files(
        "#answer-files", files=[{"name": "vide.txt", "mimeType": "text/plain", "buffer": b""}]
    )
    page.locator(".vigie-answer-form [type=submit]").click()
    error = page.locator("#answer-files-error")
    expect(error).to_contain_text("vide.txt")
    expect(error).to_contain_text(empty)
    expect(page.locator("#answer-body")).to_have_value(message)  # the message is kept
    shoot(page, f"track-answer-error-{lang}-{size}")

    page.set_input_files(
        "#answer-files", files=[{"name": "proxy.log", "mimeType": "text/plain", "buffer": LOG}]
    )
    page.locator(".vigie-answer-form [type=submit]").click()
    page.wait_for_url(f"**/track/{incident.reference}#conversation")
    answer = page.locator(".vigie-event-reporter_reply").first
    expect(answer).to_contain_text(message)
    expect(answer.locator(".vigie-answer-files a")).to_have_text("proxy.log")
    expect(page.locator(".vigie-files")).to_contain_text("proxy.log")
    no_sideways_scroll(page)
    page.locator("#conversation").scroll_into_view_if_needed()
    shoot(page, f"track-answer-{lang}-{size}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=pdf_link).click()
    download = download_info.value
    assert download.suggested_filename == f"{incident.reference}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(saved), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert message in " ".join(text.split()) or lang == "ar"  # Arabic: glyph order, see below
    assert "proxy.log" in text
    if lang == "ar" and size == "1366":
        PDF_ARTIFACTS.mkdir(parents=True, exist_ok=True)
        kept = PDF_ARTIFACTS / f"track-download-ar-{live_server.database.backend}.pdf"
        kept.write_bytes(saved.read_bytes())
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", str(kept), str(kept.with_suffix(""))], check=True
        )
    assert [e for e in watch.console_errors if "422" not in e] == []  # the refused empty file

    with live_server.session() as session:
        event = session.scalars(
            select(IncidentEvent).filter_by(incident_id=incident.id, kind="reporter_reply")
        ).one()
        files = session.scalars(select(Attachment).filter_by(incident_id=incident.id)).all()
        assert [(f.filename, f.event_id) for f in files] == [("proxy.log", event.id)]


def test_the_analyst_sees_the_file_under_the_answer_and_downloads_both_pdfs(
    page: Page, live_server: LiveServer, shoot: Any, tmp_path: Path
) -> None:
    reporter = live_server.user(name="Leila Berrada", locale="fr")
    analyst = live_server.user(role=Role.ANALYST, name="Amine Analyste", locale="fr")
    incident = live_server.incident(reporter, title="Poste infecté au service des achats")
    sign_in(page, reporter)
    page.goto(f"/track/{incident.reference}?lang=fr")
    page.fill("#answer-body", "Capture jointe.")
    page.set_input_files(
        "#answer-files", files=[{"name": "capture.txt", "mimeType": "text/plain", "buffer": LOG}]
    )
    page.locator(".vigie-answer-form [type=submit]").click()
    page.wait_for_url(f"**/track/{incident.reference}#conversation")
    page.context.clear_cookies()

    page.set_viewport_size(SIZES["1366"])
    sign_in(page, analyst)
    page.goto(f"/incidents/{incident.reference}?lang=fr")
    answer = page.locator(".vigie-event-reporter_reply").first
    expect(answer.locator(".vigie-answer-files a")).to_have_text("capture.txt")
    expect(page.locator("#attachments")).to_contain_text("Envoyé avec une réponse du déclarant")
    downloads = page.locator(".vigie-file-downloads")
    expect(downloads).to_be_visible()
    shoot(page, "file-pdf-links-fr-1366")
    names = []
    for label in ("Version CERT", "Version déclarant"):
        with page.expect_download() as download_info:
            downloads.get_by_role("link", name=label).click()
        names.append(download_info.value.suggested_filename)
    assert names == [f"{incident.reference}.pdf", f"{incident.reference}-reporter.pdf"]
