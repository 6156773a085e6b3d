"""The ``html`` rendition (Flask-free): a bulletin as a complete, standalone and printable HTML
document in one of its languages (``.html``), and :func:`render_body`, the body fragment the
page, the PDF and the e-mails embed (``bulletins/templates/bulletins/_body.html``).

Everything shown is escaped: titles and texts are plain text with line breaks, written as
escaped paragraphs; nothing typed by a person is marked safe.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from markupsafe import Markup

from bulletins.outputs import formats
from bulletins.outputs.body import CVE_URL, Bidi, Body, body_of
from bulletins.outputs.formats import Format, RenderContext, Rendered
from bulletins.outputs.view import BulletinView
from core.i18n import mail_environment
from core.markings import tlp_table

BODY = "bulletins/_body.html"
DOCUMENT = "bulletins/document.html"
_CSS_UNSAFE = re.compile(r'[\\"\n\r\f<>]')


def render_body(
    ctx: RenderContext, view: BulletinView, *, isolates: bool = False, inline: bool = False
) -> Markup:
    """The body of ``view`` in ``ctx.language`` (French when it has no such version) as an HTML
    fragment: ``<article class="bulletin" lang=… dir=…>``. ``isolates``: Unicode isolates for
    right-to-left text (WeasyPrint, which ignores ``dir``); ``inline``: the TLP banner's colours
    in a ``style`` attribute (e-mail clients drop stylesheets)."""
    return _body(body_of(ctx, view), isolates=isolates, inline=inline)


def _body(body: Body, *, isolates: bool, inline: bool) -> Markup:
    template = mail_environment("bulletins", body.language).get_template(BODY)
    html = template.render(b=body, bidi=Bidi(body.rtl, isolates), inline=inline, cve_url=CVE_URL)
    return Markup(html.strip())  # noqa: S704 — an autoescaped template's output


def document(ctx: RenderContext, view: BulletinView, *, pdf: bool = False) -> str:
    """The complete HTML document (``pdf``: with the page rules WeasyPrint lays out)."""
    body = body_of(ctx, view)
    template = mail_environment("bulletins", body.language).get_template(DOCUMENT)
    return template.render(
        b=body,
        body=_body(body, isolates=pdf, inline=False),
        pdf=pdf,
        css=stylesheet(),
        colours={str(tlp): info.colour for tlp, info in tlp_table().items()},
        css_string=css_string,
    )


@functools.cache
def stylesheet() -> Markup:
    """The body's stylesheet (``bulletins/static/bulletin.css``, a file of the slice)."""
    text = resources.files("bulletins").joinpath("static/bulletin.css").read_text("utf-8")
    return Markup(text.replace("</", "<\\/"))  # noqa: S704 — our own file, never user input


def css_string(value: str) -> Markup:
    """``value`` as a quoted CSS string (``content: "…"`` of a page margin box)."""
    quoted = _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group(0)):x} ", value)
    return Markup(f'"{quoted}"')  # noqa: S704 — every special character escaped above


def render(ctx: RenderContext, view: BulletinView) -> Rendered:
    return Rendered(document(ctx, view).encode("utf-8"), HTML.content_type)


HTML = Format("html", ".html", "text/html; charset=utf-8", render)
formats.register(HTML)
