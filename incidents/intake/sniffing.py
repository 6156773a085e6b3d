"""Attachment content sniffing: a file's type from its first bytes, never from the client.

HTML, SVG and executables are flagged (``Sniffed.flag``) for the timeline. Flask-free.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    encoding: str | None = None  # text only: how to decode it
    flag: str | None = None  # "active-content" or "executable": shown to analysts

    @property
    def text_like(self) -> bool:
        return self.content_type in TEXT_TYPES


TEXT_TYPES = frozenset(
    {"text/plain", "text/csv", "application/json", "application/xml", "message/rfc822"}
)

# (magic prefix, content type): checked in order, the first match wins.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # empty archive
    (b"PK\x07\x08", "application/zip"),  # spanned archive
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # doc, xls, ppt, msg
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07\x00", "application/vnd.rar"),  # RAR 4
    (b"Rar!\x1a\x07\x01\x00", "application/vnd.rar"),  # RAR 5
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"BZh", "application/x-bzip2"),
    (b"\x7fELF", "application/x-executable"),
)
EXECUTABLE_TYPES = frozenset(
    {"application/x-executable", "application/vnd.microsoft.portable-executable"}
)
# OOXML and OpenDocument are ZIP archives recognised by their first member names.
_ZIP_FLAVOURS: tuple[tuple[bytes, str], ...] = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_ODF = re.compile(
    rb"^PK\x03\x04.{26}mimetype(application/vnd\.oasis\.opendocument\.[a-z.-]+)", re.S
)
_EML_HEADERS = frozenset(
    {"from", "to", "subject", "date", "received", "return-path", "message-id", "mime-version"}
)
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]")
_JSON_START = re.compile(r'^\s*(\{\s*["}]|\[\s*[\[{"\]\d-]|\[\s*(true|false|null)\b)')
_HTML_MARKERS = ("<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta ")
_BAD_CONTROLS = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B} | {0x7F}


def sniff(head: bytes) -> Sniffed:
    """The content type of a file from its first bytes (:data:`HEAD_BYTES` are enough)."""
    for magic, content_type in MAGIC:
        if head.startswith(magic):
            if content_type == "application/zip":
                return Sniffed(_zip_flavour(head))
            flag = "executable" if content_type in EXECUTABLE_TYPES else None
            return Sniffed(content_type, flag=flag)
    if _is_pe(head):
        return Sniffed("application/vnd.microsoft.portable-executable", flag="executable")
    encoding = _text_encoding(head)
    if encoding is None:
        return Sniffed("application/octet-stream")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    content_type = _text_type(text)
    flag = "active-content" if content_type in {"text/html", "image/svg+xml"} else None
    return Sniffed(content_type, encoding=encoding, flag=flag)


def _zip_flavour(head: bytes) -> str:
    odf = _ODF.match(head)
    if odf:
        return odf.group(1).decode("ascii")
    if b"[Content_Types].xml" in head:
        for marker, content_type in _ZIP_FLAVOURS:
            if marker in head:
                return content_type
    return "application/zip"


def _is_pe(head: bytes) -> bool:
    """``MZ`` with a PE header where ``e_lfanew`` points, or an MZ stub that is not text."""
    if not head.startswith(b"MZ"):
        return False
    if len(head) >= 0x40:
        offset = int.from_bytes(head[0x3C:0x40], "little")
        if head[offset : offset + 4] == b"PE\0\0":
            return True
    return _text_encoding(head) is None


def _text_encoding(head: bytes) -> str | None:
    """``utf-8``, ``utf-16`` (with a BOM) or ``cp1252``/``latin-1`` when ``head`` is text."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\0" in head or any(byte in _BAD_CONTROLS for byte in head):
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut-off last char
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:  # Windows exports: C1 bytes are curly quotes, dashes, € in cp1252
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _text_type(text: str) -> str:
    start = text.lstrip()[:1024].lower()
    if start.startswith("<?xml") or start.startswith("<svg"):
        if "<svg" in start:
            return "image/svg+xml"
        return "text/html" if "<html" in start or "<!doctype html" in start else "application/xml"
    if start.startswith("<") and any(marker in start for marker in _HTML_MARKERS):
        return "text/html"
    if _JSON_START.match(text):
        return "application/json"
    if _looks_like_email(text):
        return "message/rfc822"
    if _looks_like_csv(text):
        return "text/csv"
    return "text/plain"


def _looks_like_email(text: str) -> bool:
    names: set[str] = set()
    for line in text.splitlines()[:60]:
        if not line.strip():
            break
        match = _HEADER_LINE.match(line)
        if match:
            names.add(match.group(1).lower())
        elif not line[:1].isspace():  # neither a header nor a folded continuation
            return False
    return len(names & _EML_HEADERS) >= 2


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    complete = lines[:-1] if len(lines) > 2 else lines  # the last line may be cut off
    for separator in (",", ";", "\t"):
        counts = {line.count(separator) for line in complete}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False
