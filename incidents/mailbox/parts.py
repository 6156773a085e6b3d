"""The MIME tree of a received message: its body text, its attachments, its forwarded messages.

One bounded walk (:data:`MAX_PARTS` parts, :data:`MAX_DEPTH` levels, shared by the forwarded
messages inside) so that no hostile message can make it slow; every problem becomes a short
defect text for the analyst instead of an exception.
"""

from __future__ import annotations

import codecs
import contextlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import Message
from io import BytesIO

from incidents.mailbox.headers import clean_header, clean_text, decoded, decoded_values
from incidents.mailbox.htmltext import html_to_text
from incidents.mailbox.message import MailPart
from incidents.mailbox.reading import read_message

MAX_PARTS = 200
MAX_DEPTH = 20
MAX_TEXT_CHARS = 200_000  # of the body, and of a forwarded message's text
MAX_HTML_CHARS = 500_000  # HTML beyond this is cut before it is read (the parser is slow)
_FORWARDED_HEADERS = (
    "From", "Sender", "Reply-To", "To", "Subject", "Date", "Message-ID", "Return-Path",
    "X-Originating-IP", "Received",
)  # fmt: skip
# a charset name mail programs use that Python knows by another name
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "ks_c_5601-1987": "cp949",
    "x-user-defined": "latin-1",
    "unicode-1-1-utf-7": "utf-7",
    "windows-874": "cp874",
    "x-mac-arabic": "mac-arabic",
}
_AS_RECEIVED = policy.default.clone(refold_source="none")
# control characters, path separators, and the bidirectional overrides and isolates that make
# "facture\u202efdp.exe" look like "facture exe.pdf"
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\\u202a-\u202e\u2066-\u2069]+")


@dataclass
class Walk:
    """What the walk found so far; ``forwarded`` collects every text part (for observables)."""

    max_attachment_bytes: int
    forwarded: bool = False
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[MailPart] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    counter: list[int] = field(default_factory=lambda: [0])  # shared with nested walks

    def note(self, defect: str) -> None:
        if defect not in self.defects:
            self.defects.append(defect)


def walk(part: Message, state: Walk, depth: int = 0) -> None:
    """Visit ``part`` and its children, filling ``state``."""
    state.counter[0] += 1
    if state.counter[0] > MAX_PARTS:
        state.note(f"more than {MAX_PARTS} parts: the rest ignored")
        return
    if depth > MAX_DEPTH:
        state.note(f"parts nested deeper than {MAX_DEPTH}: ignored")
        return
    try:
        _visit(part, state, depth)
        _note_part_defects(part, state)  # after decoding, which finds some
    except Exception as exc:  # noqa: BLE001 - a part the library cannot read
        state.note(f"part {state.counter[0]} unreadable ({type(exc).__name__})")


def _visit(part: Message, state: Walk, depth: int) -> None:
    content_type = part.get_content_type()
    if content_type in ("message/rfc822", "message/global"):
        state.attachments.append(_forwarded(part, state, depth))
        return
    payload = part.get_payload()
    if part.is_multipart() and isinstance(payload, list):
        children = [child for child in payload if isinstance(child, Message)]
        if part.get_content_subtype() == "alternative" and not state.forwarded:
            children = _preferred_alternative(children)
        for child in children:
            walk(child, state, depth + 1)
        return
    if part.get_content_maintype() == "multipart":  # its boundaries were never found
        state.note("multipart without its parts: read as text")
        state.plain.append(decode_text(part, state))
    elif _is_attachment(part):
        state.attachments.append(_attachment(part, state, depth))
    elif content_type in ("text/plain", "text/html"):
        text = decode_text(part, state)
        (state.plain if content_type == "text/plain" else state.html).append(text)
    elif part.get_content_maintype() == "application":  # a nameless file: kept, named
        state.attachments.append(_attachment(part, state, depth))
    # an inline image or other inline part without a name is not an attachment


def _preferred_alternative(children: list[Message]) -> list[Message]:
    """text/plain, else the last HTML-bearing alternative (the richest one, RFC 2046)."""
    for child in children:
        if child.get_content_type() == "text/plain" and not _is_attachment(child):
            return [child]
    for child in reversed(children):
        if child.get_content_type() == "text/html" or child.is_multipart():
            return [child]
    return children[-1:]


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or bool(_filename(part))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a hostile Content-Disposition
        name = ""
    if "=?" in name:  # RFC 2047 inside a quoted parameter (Outlook, old webmails)
        with contextlib.suppress(Exception):  # else left as written
            name = str(make_header(decode_header(name)))
    return _UNSAFE_NAME.sub(" ", name).strip()[:255]


def _attachment(part: Message, state: Walk, depth: int) -> MailPart:
    content_type = part.get_content_type()
    name = _filename(part) or _nameless(content_type, len(state.attachments) + 1)
    content = part.get_payload(decode=True)
    data = content if isinstance(content, bytes) else b""
    if name.lower().endswith(".eml"):  # a message attached as a file (some webmails)
        forwarded = _attached_message(data, name, content_type, state, depth)
        if forwarded is not None:
            return forwarded
    if len(data) > state.max_attachment_bytes:
        return MailPart(filename=name, content=b"", declared_type=content_type, too_large=True)
    return MailPart(filename=name, content=data, declared_type=content_type)


def _nameless(content_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"attachment-{number}{extension}"


def decode_text(part: Message, state: Walk) -> str:
    """A text part's content as ``str``: its charset (or a close guess), errors replaced."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = _charset(part, state)
    try:
        text = data.decode(charset, errors="replace")
    except Exception:  # noqa: BLE001 - a codec that is not a text encoding, or broken
        state.note(f"charset {charset!r} unusable")
        text = data.decode("utf-8", errors="replace")
    return clean_text(text.removeprefix("\ufeff"))


def _charset(part: Message, state: Walk) -> str:
    try:
        declared = (part.get_content_charset() or "us-ascii").strip().lower()
    except Exception:  # noqa: BLE001 - a hostile Content-Type
        declared = "us-ascii"
    name = _CHARSET_ALIASES.get(declared, declared)
    try:
        codecs.lookup(name)
    except (LookupError, ValueError):
        state.note(f"unknown charset {clean_header(declared)[:40]!r}: read as UTF-8")
        return "utf-8"
    return "utf-8" if name in ("us-ascii", "ascii") else name  # 8-bit text in "ascii" parts


def _note_part_defects(part: Message, state: Walk) -> None:
    for defect in getattr(part, "defects", []):
        state.note(type(defect).__name__)


def _forwarded(part: Message, state: Walk, depth: int) -> MailPart:
    """A ``message/rfc822`` part: the whole message as a ``.eml`` file, its text for mining."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        state.note("empty forwarded message")
        return MailPart(filename="forwarded.eml", content=b"", declared_type="message/rfc822")
    nested = Walk(state.max_attachment_bytes, forwarded=True, counter=state.counter)
    walk(inner, nested, depth + 1)
    for defect in nested.defects:
        state.note(defect if defect.startswith("forwarded: ") else f"forwarded: {defect}")
    data = _as_bytes(inner)
    name = _filename(part) or _eml_name(decoded(inner, "Subject"))
    text = forwarded_text(inner, nested)
    if len(data) > state.max_attachment_bytes:
        return MailPart(name, b"", "message/rfc822", forwarded=True, text=text, too_large=True)
    return MailPart(name, data, "message/rfc822", forwarded=True, text=text)


def _attached_message(
    data: bytes, name: str, content_type: str, state: Walk, depth: int
) -> MailPart | None:
    """An ``.eml`` file read as the forwarded message it is; None if it is none."""
    try:
        inner = read_message(data, state.note)
    except ValueError:
        return None
    nested = Walk(state.max_attachment_bytes, forwarded=True, counter=state.counter)
    walk(inner, nested, depth + 1)
    text = forwarded_text(inner, nested)
    too_large = len(data) > state.max_attachment_bytes
    content = b"" if too_large else data
    return MailPart(name, content, content_type, forwarded=True, text=text, too_large=too_large)


def forwarded_text(inner: Message, nested: Walk) -> str:
    """Headers of interest (From, Subject, Date, Received…), then every text part, decoded."""
    lines = []
    for name in _FORWARDED_HEADERS:
        for value in decoded_values(inner, name):
            lines.append(f"{name}: {clean_header(str(value))[:2000]}")
    texts = [*nested.plain, *(html_to_text(h[:MAX_HTML_CHARS]) for h in nested.html)]
    texts += [a.text for a in nested.attachments if a.forwarded and a.text]
    return clean_text("\n".join(lines) + "\n\n" + "\n\n".join(texts))[:MAX_TEXT_CHARS]


def _as_bytes(message: Message) -> bytes:  # (an EmailMessage: the parser's factory)
    """The forwarded message as bytes, its headers as received (not refolded)."""
    buffer = BytesIO()
    try:
        generator = BytesGenerator(buffer, mangle_from_=False, policy=_AS_RECEIVED)
        generator.flatten(message)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a message the generator cannot write back
        return b""
    return buffer.getvalue()


def _eml_name(subject: str) -> str:
    stem = _UNSAFE_NAME.sub(" ", subject).strip(" .")[:100].strip()
    return f"{stem or 'forwarded'}.eml"
