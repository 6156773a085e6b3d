"""The ``pdf`` rendition (Flask-free): the HTML document laid out by WeasyPrint, A4, with the
CERT's name and the reference at the top of every page, the TLP label in its official colours on
black at the top and bottom of every page (CSS ``@page`` margin boxes), and the page numbers.

Arabic reads right to left, shaped by Pango; WeasyPrint ignores ``dir`` inside a line, so the
body isolates its Latin runs with Unicode isolates (:mod:`bulletins.outputs.body`). Nothing is
fetched (every URL is refused) and the fonts are the system's (DejaVu Sans covers Latin and
Arabic; ``fonts-dejavu-core`` and ``fonts-noto-core``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from bulletins.outputs import formats
from bulletins.outputs.formats import Format, RenderContext, Rendered
from bulletins.outputs.html import document
from bulletins.outputs.view import BulletinView


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"a bulletin's PDF loads no resource ({url[:60]})")


def render(ctx: RenderContext, view: BulletinView) -> Rendered:
    from weasyprint import HTML  # type: ignore[import-untyped]  # 1 s: see cert.warm

    pdf: bytes = HTML(string=document(ctx, view, pdf=True), url_fetcher=_no_fetch).write_pdf()
    return Rendered(pdf, PDF.content_type)


PDF = Format("pdf", ".pdf", "application/pdf", render)
formats.register(PDF)
