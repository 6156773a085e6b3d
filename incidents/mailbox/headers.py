"""Reading a received message's headers without ever raising (pure).

A header written by anyone on the Internet may be malformed, enormous or hostile: every value is
read from the raw source, cut to :data:`MAX_HEADER_CHARS` before the ``email`` package parses it,
and falls back to the raw text when that parser gives up. Control characters never come out.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from email.message import Message

MAX_HEADER_CHARS = 4000  # a longer header value is cut (and the cut noted) before parsing
# a sender's address fits in far less; the library's address parser is slow on long values
_SHORTER = {"from": 1000, "sender": 1000, "reply-to": 1000, "return-path": 1000}
MAX_MESSAGE_ID_CHARS = 32_000  # of In-Reply-To and References (read without the parser)
MAX_MESSAGE_IDS = 100  # of a References header: the first (thread root) and the latest
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # C0 but \t and \n, and DEL
_HEADER_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
_BARE_ID = re.compile(r"[^<>\s,;()\"]{1,900}@[^<>\s,;()\"]{1,900}")
_ADDR_SPEC = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9\u0080-\uffff.-]{1,253}$")


def clean_text(text: str) -> str:
    """``text`` with line ends made ``\\n`` and other control characters removed."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_header(text: str) -> str:
    """A header value on one line: folding and control characters become single spaces."""
    return _HEADER_CONTROLS.sub(" ", text).strip()


def raw_values(message: Message, name: str) -> list[str]:
    """The raw (undecoded) values of every ``name`` header, topmost first."""
    wanted = name.lower()
    values = []
    for key, value in message.raw_items():
        if key.lower() == wanted:
            values.append(_source(value))
    return values


def decoded_values(message: Message, name: str, cut: list[str] | None = None) -> list[object]:
    """Every ``name`` header parsed by the message's policy (RFC 2047 decoded), topmost first.

    A value the policy cannot parse is returned as its raw text; a value longer than
    :data:`MAX_HEADER_CHARS` is cut first and its name appended to ``cut``.
    """
    parsed: list[object] = []
    limit = _SHORTER.get(name.lower(), MAX_HEADER_CHARS)
    for raw in raw_values(message, name):
        if len(raw) > limit and cut is not None:
            cut.append(name)
        value = raw[:limit]
        try:
            parsed.append(message.policy.header_fetch_parse(name, value))
        except Exception:  # noqa: BLE001 - the library's parser on hostile input
            parsed.append(value)
    return parsed


def decoded(message: Message, name: str, cut: list[str] | None = None) -> str:
    """The topmost ``name`` header, decoded, on one line, "" when absent."""
    values = decoded_values(message, name, cut)
    return clean_header(str(values[0])) if values else ""


def message_ids(values: list[str]) -> tuple[str, ...]:
    """``<id>`` tokens of Message-ID-like headers, brackets added to bare ``id@host`` values."""
    ids: list[str] = []
    for value in values:
        text = clean_header(value[:MAX_MESSAGE_ID_CHARS])
        found = [f"<{token}>" for token in _MESSAGE_ID.findall(text)]
        if not found:
            found = [f"<{token}>" for token in _BARE_ID.findall(text)]
        ids.extend(token for token in found if token not in ids)
    if len(ids) > MAX_MESSAGE_IDS:
        ids = ids[:1] + ids[-(MAX_MESSAGE_IDS - 1) :]
    return tuple(ids)


def mailboxes(message: Message, name: str, cut: list[str] | None = None) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) of every usable address of the ``name`` headers."""
    found: list[tuple[str, str]] = []
    for header in decoded_values(message, name, cut):
        for display, address in _addresses(header):
            spec = address.strip().lower()
            if _ADDR_SPEC.match(spec) and ".." not in spec:
                found.append((clean_header(display), spec))
    return found


def _addresses(header: object) -> list[tuple[str, str]]:
    try:
        addresses = getattr(header, "addresses", None)
        if addresses is not None:
            return [(a.display_name or "", a.addr_spec or "") for a in addresses]
    except Exception:  # noqa: BLE001, S110 - the library's address parser on hostile input
        pass  # read again below, more simply
    return [(name, spec) for name, spec in email.utils.getaddresses([clean_header(str(header))])]


def sent_at(values: list[str]) -> dt.datetime | None:
    """The Date header as an aware datetime (UTC when the zone is unknown), None if unusable."""
    if not values:
        return None
    try:
        when = email.utils.parsedate_to_datetime(clean_header(values[0])[:200])
    except Exception:  # noqa: BLE001 - any malformed date
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def return_path(values: list[str]) -> str | None:
    """The topmost Return-Path: "" for the null sender ``<>``, the lower-cased address, or None."""
    if not values:
        return None
    text = clean_header(values[0])[:1000]
    inner = text[text.find("<") + 1 : text.rfind(">")] if "<" in text and ">" in text else text
    return inner.strip().lower()


def _source(value: object) -> str:
    """A raw header value as a string: 8-bit bytes (kept as surrogates by the parser) read as
    UTF-8 (RFC 6532), else as Windows-1252 (old mail programs writing Latin-1 raw)."""
    text = value if isinstance(value, str) else str(value)
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")
