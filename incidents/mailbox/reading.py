"""Reading raw bytes into an ``email`` message tree, within bounds (pure).

The standard library's parser is correct but not built for hostile input: it recurses at each
nested part, compares every line with every open boundary, creates every part however many, and
parses a ``Content-Type`` of a megabyte in minutes. So the bytes are fed in chunks while the work
is counted (parts created, lines × open boundaries), over-long ``Content-*`` fields are cut and
containers beyond :data:`MAX_CONTAINERS` are made opaque: whatever is left out is noted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email import policy
from email.feedparser import BytesFeedParser
from email.message import EmailMessage

MAX_CONTAINERS = 64  # multipart and message/* parts
MAX_CREATED_PARTS = 300  # the walk reads 200 of them
# lines read × boundaries open: a 25 MB message (CERT_MAIL_MAX_MB's default) of base64 lines
# in parts one or two levels deep makes under 1,000,000; a few thousand nested parts with long
# bodies make billions (the parser compares each line with each open boundary)
MAX_LINE_CHECKS = 4_000_000
MAX_HEADERS = 1000  # header fields of the message (a long relay chain has 60)
MAX_CONTENT_FIELD = 2000  # bytes of a Content-Type or Content-Disposition field (parsed often)
_CHUNK = 64 * 1024
_CONTAINER = re.compile(rb"(?im)(^content-type[ \t]*:[ \t\r\n]*)(?:multipart|message)/")
_CONTENT_FIELD = re.compile(rb"(?im)^content-(?:type|disposition)[ \t]*:(?:[^\r\n]|\r?\n[ \t])*")
# a message has at least one of these (junk bytes parsed as a message have none)
_MESSAGE_HEADERS = frozenset(
    {
        "from", "to", "cc", "subject", "date", "message-id", "received", "return-path",
        "mime-version", "content-type", "sender", "reply-to", "delivered-to",
    }
)  # fmt: skip


def read_message(raw: bytes, note: Callable[[str], None]) -> EmailMessage:
    """The message tree of ``raw``; :class:`ValueError` when ``raw`` is no message at all."""
    if not raw.strip():
        raise ValueError("empty message")
    raw = _bounded_fields(_opaque_containers(raw, note), note)
    created = [0]

    def counted() -> EmailMessage:
        created[0] += 1
        return EmailMessage(policy=policy.default)

    parser = BytesFeedParser(_factory=counted, policy=policy.default)
    checks = 0
    try:
        for start in range(0, len(raw), _CHUNK):
            chunk = raw[start : start + _CHUNK]
            parser.feed(chunk)
            checks += chunk.count(b"\n") * max(1, len(_open_boundaries(parser)))
            if created[0] > MAX_CREATED_PARTS or checks > MAX_LINE_CHECKS:
                note(f"message too complex: read up to byte {start + len(chunk)}")
                break
        message = parser.close()
    except Exception as exc:  # the library's parser gave up: not a message we can read
        raise ValueError(f"unreadable message ({type(exc).__name__})") from exc
    _keep_first_headers(message, note)
    names = {str(name).strip().lower() for name in message.keys()}  # noqa: SIM118
    if not isinstance(message, EmailMessage) or not names & _MESSAGE_HEADERS:
        raise ValueError("not a message: no header")
    return message


def _keep_first_headers(message: EmailMessage, note: Callable[[str], None]) -> None:
    """Only the first :data:`MAX_HEADERS` header fields are kept (each look-up reads them all)."""
    headers = getattr(message, "_headers", None)
    if isinstance(headers, list) and len(headers) > MAX_HEADERS:
        del headers[MAX_HEADERS:]
        note(f"more than {MAX_HEADERS} header fields: the rest ignored")


def _open_boundaries(parser: object) -> list[object]:
    """The boundaries the parser compares each line with (its private stack; [] if renamed)."""
    stack = getattr(getattr(parser, "_input", None), "_eofstack", None)
    return stack if isinstance(stack, list) else []


def _opaque_containers(raw: bytes, note: Callable[[str], None]) -> bytes:
    """``raw`` with the containers beyond :data:`MAX_CONTAINERS` typed ``x-cut/…`` (never
    read): the parser recurses into each, thousands of nested ones would exhaust it."""
    found = 0

    def opaque(match: re.Match[bytes]) -> bytes:
        nonlocal found
        found += 1
        return match.group() if found <= MAX_CONTAINERS else match.group(1) + b"x-cut/"

    flattened = _CONTAINER.sub(opaque, raw)
    if found > MAX_CONTAINERS:
        note(f"more than {MAX_CONTAINERS} multipart or message parts: the rest ignored")
    return flattened


def _bounded_fields(raw: bytes, note: Callable[[str], None]) -> bytes:
    """``Content-Type`` and ``Content-Disposition`` fields cut to :data:`MAX_CONTENT_FIELD`."""

    def cut(match: re.Match[bytes]) -> bytes:
        field = match.group()
        if len(field) <= MAX_CONTENT_FIELD:
            return field
        note("Content-Type or Content-Disposition field cut")
        return field[:MAX_CONTENT_FIELD]

    return _CONTENT_FIELD.sub(cut, raw)
