"""The human renditions of a published bulletin on both databases: the standalone HTML document
(maCERT sections in French, CVE links, indicators by group, TLP colours, Arabic right to left,
everything escaped), the plain text (TLP label first) and the PDF (TLP label, CERT and reference
on every page, Arabic title, page numbers), and the body fragment the page and e-mails embed."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.orm import Session

from bulletins.outputs import formats
from bulletins.outputs.html import render_body
from core.clock import FrozenClock
from tests.bulletins.outputs_kit import (
    ARABIC_TITLE,
    SETTINGS,
    advisory,
    pdf_pages,
    render,
    view_of,
)
from tests.kit.world import World

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_the_html_document_after_the_macert_model(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    view = view_of(db_session, advisory(db_session, clock, world))
    rendered = render(db_session, view, "html")
    assert rendered.content_type.startswith("text/html")
    html = rendered.body.decode()
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert '<html lang="fr" dir="ltr">' in html
    for words in ("maCERT", "Bulletin de sécurité", "Niveau de Risque", "Critique",
                  "Niveau d&#39;Impact", "Important", "Systèmes affectés", "Fortinet",
                  "Identificateurs externes", "Scores CVSS", "9.8", "Bilan de la vulnérabilité",
                  "Solution", "Risque", "Indicateurs de compromission", "Adresses IP",
                  "Domaines", "Empreintes de fichiers", "Référence(s)",
                  "Historique des révisions", "Version initiale", "Date de publication",
                  view.reference):  # fmt: skip
        assert words in html, words
    assert 'href="https://www.cve.org/CVERecord?id=CVE-2026-21762"' in html
    assert "Une faille critique.<br>\nElle permet" in html  # line breaks kept, escaped
    assert "&lt;b&gt;" in html and "<b>" not in html  # an indicator's markup is text
    assert ".tlp-amber { color: #FFC000; }" in html and "marking b-tlp tlp-amber" in html
    assert "TLP:AMBER" in html.split("<title>")[1]
    assert "http" not in html.split("<style>")[1].split("</style>")[0]  # loads nothing


def test_the_arabic_version_reads_right_to_left_with_latin_runs_isolated(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    view = view_of(db_session, advisory(db_session, clock, world))
    html = render(db_session, view, "html", "ar").body.decode()
    assert '<html lang="ar" dir="rtl">' in html and ARABIC_TITLE in html
    assert '<bdi dir="ltr">CVE-2026-21762</bdi>' in html
    assert f'<bdi dir="ltr">{view.reference}</bdi>' in html
    assert "الأنظمة المتأثرة" in html and "مؤشرات الاختراق" in html
    english = render(db_session, view, "html", "en").body.decode()  # no English version
    assert '<html lang="fr" dir="ltr">' in english


def test_a_title_and_texts_are_escaped_everywhere(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    texts = {"fr": {"title": XSS, "summary": XSS, "solution": "a & b", "risks": "<i>"}}
    view = view_of(db_session, advisory(db_session, clock, world, texts=texts))
    for html in (render(db_session, view, "html").body.decode(),
                 str(render_body(formats.RenderContext(db_session, SETTINGS), view))):  # fmt: skip
        assert "<script>" not in html and "<img" not in html and "<i>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    text = render(db_session, view, "text").body.decode()
    assert XSS in text  # plain text is shown as is


def test_the_body_fragment_for_pages_and_e_mails(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    view = view_of(db_session, advisory(db_session, clock, world, tlp="red"))
    ctx = formats.RenderContext(db_session, SETTINGS, language="ar")
    body = str(render_body(ctx, view))
    assert body.startswith('<article class="bulletin" lang="ar" dir="rtl">')
    assert "<html" not in body and "style=" not in body  # the page's CSP allows no inline style
    inline = str(render_body(ctx, view, inline=True))
    assert "color:#FF2B2B" in inline  # e-mail clients drop stylesheets


def test_the_plain_text(db_session: Session, clock: FrozenClock, world: World) -> None:
    view = view_of(db_session, advisory(db_session, clock, world, tlp="green"))
    rendered = render(db_session, view, "text")
    assert rendered.content_type == "text/plain; charset=utf-8"
    lines = rendered.body.decode().splitlines()
    assert lines[0] == "TLP:GREEN"
    assert lines[2] == "maCERT · Bulletin de sécurité · TLP:GREEN"
    text = "\n".join(lines)
    assert f"Référence: {view.reference}" in text
    assert "https://www.cve.org/CVERecord?id=CVE-2026-21762" in text
    assert "Adresses IP (1)\n  IPv4 185.220.101.4" in text
    assert "Empreintes de fichiers (2)\n  SHA-256 e3b0c442" in text
    assert lines[-1] == "TLP:GREEN"
    arabic = render(db_session, view, "text", "ar").body.decode()
    assert arabic.startswith("TLP:GREEN\n") and ARABIC_TITLE in arabic


def test_the_pdf_has_the_tlp_banner_and_reference_on_every_page(
    db_session: Session, clock: FrozenClock, world: World, tmp_path: Path
) -> None:
    many = [{"type": "ipv4", "value": f"10.0.{i // 250}.{i % 250}"} for i in range(300)]
    bulletin = advisory(db_session, clock, world, tlp="amber+strict", indicators=many)
    view = view_of(db_session, bulletin)
    rendered = render(db_session, view, "pdf")
    assert rendered.content_type == "application/pdf" and rendered.body.startswith(b"%PDF-")
    pages = pdf_pages(rendered.body, tmp_path)
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        assert page.count("TLP:AMBER+STRICT") >= 2, number  # top and bottom of each page
        assert f"maCERT · {view.reference}" in page, number
        assert re.search(rf"\b{number} ?/ ?{len(pages)}\b", page), number
    assert "bulletin de sécurité" in pages[0].lower() and "10.0.1.49" in "".join(pages)


def test_the_arabic_pdf(
    db_session: Session, clock: FrozenClock, world: World, tmp_path: Path
) -> None:
    view = view_of(db_session, advisory(db_session, clock, world))
    pages = pdf_pages(render(db_session, view, "pdf", "ar").body, tmp_path)
    assert ARABIC_TITLE in pages[0] and "نشرة أمنية" in pages[0]
    assert all("TLP:AMBER" in page for page in pages)
    assert "CVE-2026-21762" in pages[0] and str(view.reference) in pages[0]


def test_the_registry_names_the_three_renditions() -> None:
    assert {"html", "text", "pdf"} <= set(formats.FORMATS)
    assert [formats.by_name(n).suffix for n in ("html", "text", "pdf")] == [".html", ".txt", ".pdf"]
