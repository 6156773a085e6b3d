"""An HTML-only message turned into safe plain text (pure; the standard library's parser).

Mail HTML is never shown as HTML: its text is read (scripts, styles and the head left out), its
structure kept as line breaks and "- " list items, its links written out as ``text <url>`` so
that an analyst sees where a link really goes (only ``http``, ``https`` and ``mailto``: a
``javascript:`` link is dropped) and the observables extraction finds the URL.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# elements whose content is never text for a reader
_SKIPPED = frozenset({"script", "style", "head", "template", "noscript", "title", "svg", "math"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "tfoot", "thead", "tr", "ul", "caption",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_SHOWN_SCHEMES = ("http://", "https://", "mailto:")
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol"}
)
_SPACES = re.compile(r"[ \t\f\v\r\n\u00a0\u200b]+")
# block boundaries are markers first (a run of them is one break), <br> a real line break
_LINE, _PARAGRAPH = "\x00L", "\x00P"
_BREAKS = re.compile(r"(?:[ ]*\x00[LP])+[ ]*")
_BLANK_LINES = re.compile(r"\n[ ]*\n(?:[ ]*\n)+")
# a "<" that opens no tag closed nearby is text: the standard parser rescans the rest of the
# document at each such "<" (quadratic on "<a<a<a…"), so it is escaped before parsing
_LONE_ANGLE = re.compile(r"<(?![^<>]{0,4000}>)")


class _TextWriter(HTMLParser):
    """Collects text chunks; :data:`_LINE` and :data:`_PARAGRAPH` mark block boundaries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping: list[str] = []  # open skipped elements (nested, e.g. <svg><style>)
        self._pre = 0
        self._links: list[tuple[str | None, int]] = []  # (shown URL, chunk index at <a>)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            if tag not in _VOID:
                self._skipping.append(tag)
            return
        if self._skipping:
            return
        if tag in _BLOCKS or tag in _CELLS or tag == "br":
            self._break(tag)
        elif tag == "img":
            alt = _SPACES.sub(" ", dict(attrs).get("alt") or "").strip()
            if alt:
                self.chunks.append(f"[{alt}]")
        elif tag == "a":
            self._links.append((_shown_url(dict(attrs).get("href")), len(self.chunks)))

    def _break(self, tag: str) -> None:
        if tag == "br":
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.extend((_LINE, "- "))
        elif tag in _BLOCKS:
            self.chunks.append(_PARAGRAPH if tag in _PARAGRAPHS else _LINE)
            self._pre += tag == "pre"
        else:  # a table cell
            self.chunks.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID or tag not in _SKIPPED:
            self.handle_starttag(tag, attrs)
            if tag not in _VOID:
                self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag in self._skipping:  # close up to the matching skipped element
                del self._skipping[len(self._skipping) - 1 - self._skipping[::-1].index(tag) :]
            return
        if tag in _BLOCKS:
            self.chunks.append(_PARAGRAPH if tag in _PARAGRAPHS else _LINE)
            if tag == "pre" and self._pre:
                self._pre -= 1
        elif tag == "a" and self._links:
            self._close_link()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        self.chunks.append(data if self._pre else _SPACES.sub(" ", data))

    def close_links(self) -> None:
        while self._links:  # an <a> never closed still shows its URL
            self._close_link()

    def _close_link(self) -> None:
        url, start = self._links.pop()
        if url is None:
            return
        text = "".join(self.chunks[start:]).strip()
        shown = url.removeprefix("mailto:") if url.startswith("mailto:") else url
        if not text:
            self.chunks.append(shown)
        elif text != shown and text != url:
            self.chunks.append(f" <{url}>")


def _shown_url(href: str | None) -> str | None:
    if not href:
        return None
    url = _SPACES.sub("", href)
    if not url.lower().startswith(_SHOWN_SCHEMES) or "<" in url or ">" in url:
        return None
    return url


def html_to_text(html: str) -> str:
    """The readable text of ``html``: never markup, never script, links written out."""
    writer = _TextWriter()
    try:
        writer.feed(_LONE_ANGLE.sub("&lt;", html.replace("\x00", "")))
        writer.close()
    except (AssertionError, ValueError):  # the parser gives up on some broken markup
        pass
    writer.close_links()
    return _tidy("".join(writer.chunks))


def _tidy(text: str) -> str:
    """Block markers made line breaks, spaces trimmed around them, at most one blank line."""
    text = _BREAKS.sub(lambda run: "\n\n" if _PARAGRAPH in run.group() else "\n", text)
    lines = [line.strip(" ") for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
