"""Plain-text and CSV blocklists into parsed records (pure module).

As CERTs consume them from abuse-tracking projects (abuse.ch, Spamhaus DROP, hosts files…):

* text (``delimiter`` None): fields separated by blanks, ``column`` 1-based (one value per
  line is column 1); an inline comment after `` #`` or `` ;`` is dropped
  (``1.10.16.0/20 ; SBL256894``);
* CSV (``delimiter`` given): quoted fields as the :mod:`csv` module reads them, ``column``
  1-based;
* lines starting with ``#`` or ``;`` and blank lines are ignored; a leading byte-order mark and
  CRLF line ends are accepted; the first data line is taken for a header when its value is not
  one but a word (``url``, ``dst_ip``, ``ioc_value``);
* ``value_type`` None: each value's type is guessed from its shape (URL, e-mail address, IP
  address or network, MD5/SHA-1/SHA-256 by length, CVE, else a domain); given, every value must
  be of that type (``ipv4``/``ipv6`` accept networks);
* a document more than 1 % NUL or 10 % undecodable bytes (U+FFFD) in its first 8 KiB is binary;
* each bad line is a rejection ``line N`` with the reason (a NUL byte, over
  :data:`MAX_LINE` characters, a missing column, an invalid value).

Each value is one indicator, ``source_ref`` ``<type>:<value>``, without a version (a list says
only "this is bad now": a value that leaves the list expires, see :mod:`feeds.index.snapshot`).
A binary file, an HTML page, an empty document, or one where no data line holds a valid value
(a wrong column or type, an error page in plain text) raises :class:`NotThatKind`: a snapshot
of nothing would expire the whole feed.
"""

from __future__ import annotations

import csv
import ipaddress
import re

from feeds.rules.observables import HASH_BY_LENGTH, ObservableType
from feeds.rules.quick import quick_value
from feeds.rules.records import IndicatorRecord, NotThatKind, Parsed, Rejection
from feeds.rules.refang import refang
from feeds.rules.values import InvalidObservable

MAX_LINE = 8192  # characters
_BINARY_MAGIC = (b"\x1f\x8b", b"PK\x03\x04", b"%PDF", b"7z\xbc\xaf", b"BZh", b"\xfd7zXZ")
_HTML = re.compile(r"\s*(<!doctype\s+html|<html|<head|<body|<\?xml)", re.IGNORECASE)
_HEADER = re.compile(r"[A-Za-z][A-Za-z0-9_ .-]{0,39}")
_INLINE_COMMENT = re.compile(r"\s+[#;].*$")
_HEX = re.compile(r"[0-9a-fA-F]+")


def decode_list(body: bytes) -> str:
    """The text of a downloaded list; :class:`NotThatKind` for a binary file (an archive, a
    PDF, UTF-16, more than 1 % NUL bytes in its first 8 KiB). Bytes that are not UTF-8 become
    U+FFFD: the lines holding them are rejected, the others kept."""
    head = body[:8192]
    if head.startswith(_BINARY_MAGIC) or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotThatKind("not a text list: the document is a binary file")
    if head and head.count(0) * 100 > len(head):
        raise NotThatKind("not a text list: the document is a binary file (NUL bytes)")
    return body.decode("utf-8", errors="replace")


def parse_list(text: str, *, value_type: str | None, column: int, delimiter: str | None) -> Parsed:
    """Every value of a text or CSV list (see the module's rules)."""
    if value_type is not None and value_type not in set(ObservableType):
        raise ValueError(f"unknown value type {value_type!r}")
    if column < 1:
        raise ValueError(f"columns are numbered from 1, not {column}")
    text = text.removeprefix("\ufeff")
    _check_document(text)
    parsed = Parsed("csv" if delimiter else "text")
    data_lines = 0
    header, header_text = 0, ""
    for number, raw_line in enumerate(text.split("\n"), 1):
        line = raw_line.removesuffix("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        data_lines += 1
        try:
            raw = _field(line, column, delimiter)
            parsed.indicators.append(_record(raw, value_type))
        except InvalidObservable as exc:
            if data_lines == 1 and _looks_like_header(line, column, delimiter):
                header, header_text = number, line[:100]
                continue
            parsed.rejections.append(Rejection(f"line {number}", str(exc)))
    if data_lines and not parsed.indicators:
        first = parsed.rejections[0] if parsed.rejections else None
        why = f"{first.ref}: {first.reason}" if first else f"line {header}: {header_text!r}"
        raise NotThatKind(f"not a list: no line holds a valid value ({why})")
    return parsed


def _check_document(text: str) -> None:
    if not text.strip():
        raise NotThatKind("an empty document, not a list")
    if _HTML.match(text):
        raise NotThatKind("an HTML page, not a list")
    head = text[:8192]
    if head.count("\x00") * 100 > len(head) or head.count("\ufffd") * 10 > len(head):
        raise NotThatKind("not a text list: the document is a binary file")


def _field(line: str, column: int, delimiter: str | None) -> str:
    if "\x00" in line:
        raise InvalidObservable("the line holds a NUL byte")
    if len(line) > MAX_LINE:
        raise InvalidObservable(f"the line is {len(line)} characters long, over {MAX_LINE}")
    if delimiter is None:
        fields = _INLINE_COMMENT.sub("", line).split()
    else:
        try:
            fields = next(csv.reader([line], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            raise InvalidObservable(f"not a CSV line: {exc}") from None
    if len(fields) < column:
        raise InvalidObservable(f"no column {column} (the line has {len(fields)})")
    value = fields[column - 1].strip().strip('"').strip()
    if not value:
        raise InvalidObservable(f"column {column} is empty")
    return value


def _looks_like_header(line: str, column: int, delimiter: str | None) -> bool:
    try:
        value = _field(line, column, delimiter)
    except InvalidObservable:
        return False
    return bool(_HEADER.fullmatch(value)) and "." not in value


def _record(raw: str, value_type: str | None) -> IndicatorRecord:
    kind = value_type or guess_type(raw)
    value = quick_value(kind, raw)
    return IndicatorRecord(source_ref=f"{value.kind}:{value.value}", values=(value,))


def guess_type(raw: str) -> str:
    """The observable type a value's shape says: URL, e-mail, IPv4/IPv6 address or network,
    hash by length, CVE, else a domain (whose check then says what is wrong)."""
    defanged = not raw.isascii() or any(char in raw for char in "[({\\")
    text = (refang(raw) if defanged else raw).strip()
    if "://" in text:
        return ObservableType.URL
    if "@" in text:
        return ObservableType.EMAIL
    if text.upper().startswith("CVE-"):
        return ObservableType.CVE
    if _HEX.fullmatch(text) and len(text) in HASH_BY_LENGTH:
        return HASH_BY_LENGTH[len(text)]
    try:
        network = ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        return ObservableType.IPV6 if text.count(":") >= 2 else _dotted(text)
    return ObservableType.IPV4 if network.version == 4 else ObservableType.IPV6


def _dotted(text: str) -> str:
    head = text.split("/", 1)[0]
    if head.replace(".", "").isdigit():
        return ObservableType.IPV4  # 1.2.3.256, 010.1.1.1: the IPv4 check says why
    return ObservableType.DOMAIN
