"""What kind of feed document some bytes are, from their content (pure module).

:func:`recognise` names it — ``stix`` (a STIX 2.1 bundle), ``misp-event`` (``{"Event": {…}}``,
a bare event with ``Attribute`` or ``Object``, or MISP's REST search export
``{"response": […]}``), ``misp-manifest`` (a MISP feed's ``manifest.json``: event uuid →
``{info, timestamp…}``), ``csv`` (UTF-8 text whose lines are delimited by ``,``, ``;`` or
tabs), ``text`` (one value per line) — and refuses, with :class:`NotThatKind` saying
what it is instead, an empty document, binary content, an HTML or XML page (a portal's error
or login page served with status 200), and JSON that is none of the above.

:func:`decode` does the same and also returns what it decoded (the JSON value or the text), so
that an import decodes a large document once.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from feeds.rules.records import NotThatKind

_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_SAMPLE_LINES = 20
DELIMITERS = (",", ";", "\t")


def recognise(data: bytes) -> str:
    """The kind of ``data`` (see the module), or :class:`NotThatKind` saying why none."""
    return decode(data)[0]


def decode(data: bytes) -> tuple[str, Any]:
    """``(kind, content)``: the decoded JSON value for JSON kinds, the text for ``csv``/``text``."""
    body = data.removeprefix(b"\xef\xbb\xbf")
    start = body.lstrip()[:1]
    if not start:
        raise NotThatKind("an empty document")
    if b"\x00" in body:
        raise NotThatKind("a binary document (NUL bytes), not a feed document")
    if start == b"<":
        raise NotThatKind("an HTML or XML page (an error or login page?), not a feed document")
    if start in (b"{", b"["):
        return _json(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a few bad bytes (Latin-1 in a comment): those lines are rejected by the list parser
        text = body.decode("utf-8", errors="replace")
        if text[:8192].count("\ufffd") * 10 > len(text[:8192]):
            raise NotThatKind(f"not UTF-8 text (byte {exc.start}): a binary document?") from None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text[:4096]):
        raise NotThatKind("a binary document (control characters), not a feed document")
    return _text_kind(text), text


def _json(body: bytes) -> tuple[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise NotThatKind(f"not valid JSON: {exc}") from None
    if isinstance(document, dict):
        kind = _json_kind(document)
        if kind is not None:
            return kind, document
        if isinstance(document.get("type"), str):
            raise NotThatKind(
                f"a single STIX object ({str(document['type'])[:40]}), not a bundle "
                '{"type": "bundle", "objects": [...]}'
            )
    elif (
        isinstance(document, list)
        and document
        and all(isinstance(item, dict) and "Event" in item for item in document[:5])
    ):
        raise NotThatKind("a list of MISP events (a search result): import them one by one")
    raise NotThatKind("JSON, but not a STIX 2.1 bundle, a MISP event or a MISP feed manifest")


def _json_kind(document: dict[str, Any]) -> str | None:
    if document.get("type") == "bundle":
        return "stix"
    if any(isinstance(document.get(key), list) for key in ("Attribute", "Object")):
        return "misp-event"
    if isinstance(document.get("Event"), dict):
        return "misp-event"
    response = document.get("response")
    if (
        isinstance(response, list)
        and response
        and all(isinstance(item, dict) and "Event" in item for item in response[:5])
    ):
        return "misp-event"  # MISP's REST search export
    if document and _is_manifest(document):
        return "misp-manifest"
    return None


def _is_manifest(document: dict[str, Any]) -> bool:
    for position, (key, entry) in enumerate(document.items()):
        if position >= 5:
            break
        if not _UUID.fullmatch(key) or not isinstance(entry, dict):
            return False
        if "info" not in entry and "timestamp" not in entry:
            return False
    return True


def _data_lines(text: str) -> list[str]:
    return [
        line
        for line in (raw.strip() for raw in text.splitlines()[: _SAMPLE_LINES * 5])
        if line and not line.startswith(("#", "//", ";"))
    ][:_SAMPLE_LINES]


def _text_kind(text: str) -> str:
    lines = _data_lines(text)
    if not lines:
        raise NotThatKind("a text document with no value (only comments or blank lines)")
    return "csv" if delimiter(lines) is not None else "text"


def list_delimiter(text: str) -> str | None:
    """The delimiter of a ``csv`` document's lines (``None``: one value per line)."""
    return delimiter(_data_lines(text))


def delimiter(lines: list[str]) -> str | None:
    """The delimiter found on every sampled line (``None``: one value per line)."""
    for candidate in DELIMITERS:
        if all(candidate in line for line in lines):
            return candidate
    return None
