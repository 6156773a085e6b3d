"""Comments, replies and answers as analysts write them: safe Markdown (pure, Flask-free).

:func:`render` turns the Markdown source into HTML in two steps, each enough on its own:

1. **markdown-it-py**, CommonMark with raw HTML *disabled* (``<b>``, ``<script>``, ``<img>``
   written in a message are shown as text), a line break where the writer pressed Enter,
   no automatic links, no images (``![x](y)`` stays a link or text), headings shifted down
   (``#`` is an ``h4``) so that a message never out-ranks the page's own titles. markdown-it
   refuses ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` link targets itself.
2. **nh3** (ammonia) with an allow-list: :data:`TAGS`, ``href`` on links only, links
   ``http``/``https``/``mailto`` only, ``rel="noopener noreferrer nofollow"`` on every link.

:func:`clean` is the second step alone: what pages apply again when they show a stored body
(defence in depth, and the bodies stored as HTML before Markdown).

:func:`plain` is for text that is not Markdown (an e-mail received): shown exactly as written —
every character escaped, line breaks kept, blank lines between paragraphs — so that a ``*``, a
``#`` or a ``<script>`` in a message stays what its writer typed.
"""

from __future__ import annotations

import functools
import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

TAGS = frozenset(
    {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "a", "hr"}
    | {"h4", "h5", "h6"}
)
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
HEADING_SHIFT = 3  # "#" → h4, "##" → h5, deeper → h6
# the renderer's line ends after block tags and <br>: pages show messages with white-space:
# pre-wrap (plain-text bodies of before), where each would be one more empty line
_BLOCK_END = re.compile(r"(<br ?/?>|<hr ?/?>|</?(?:p|ul|ol|li|blockquote|h[1-6]|pre)>)\n")


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
    md.disable("image")
    return md


def _shift_headings(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_SHIFT)}"


def clean(html: str) -> str:
    """HTML reduced to the allow-list (scripts and styles dropped with their content)."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags={"script", "style"},
        attributes={"a": {"href"}},
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
        url_relative="deny",  # no "/admin/…" or "//host" links: absolute http(s) and mailto
    ).strip()


def render(source: str) -> str:
    """Markdown ``source`` as safe HTML (see the module docstring)."""
    md = _parser()
    tokens = md.parse(source)
    _shift_headings(tokens)
    return clean(_BLOCK_END.sub(r"\1", md.renderer.render(tokens, md.options, {})))


_PARAGRAPHS = re.compile(r"\n[ \t]*\n+")


def plain(text: str) -> str:
    """Plain ``text`` as the same safe HTML as :func:`render` (``<p>`` and ``<br>``), nothing in
    it interpreted: see the module docstring."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    paragraphs = [p for p in _PARAGRAPHS.split(lines) if p.strip()]
    body = "".join(
        "<p>" + "<br>".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    return clean(body)
