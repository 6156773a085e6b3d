"""The matchable values of a STIX 2.1 pattern (pure module).

Two paths give the same answer (``tests/feeds/test_patterns.py`` checks them on one corpus):

* the **fast path**, a regular expression for a single comparison — ``[ipv4-addr:value =
  '198.51.100.7']``, a network with ``=`` or ``ISSUBSET``, ``ipv6-addr``, ``domain-name``,
  ``url``, ``email-addr``, ``email-message:from_ref.value`` and ``file:hashes.MD5`` /
  ``'SHA-1'`` / ``'SHA-256'`` — about a microsecond, against some 300 µs for the grammar;
* the ``stix2patterns`` parser (ANTLR) for everything else: it validates the pattern (an
  invalid one raises :class:`InvalidPattern` with the parser's reason) and every supported
  equality comparison (``=``, ``IN``, ``ISSUBSET`` for networks) anywhere in it gives a value.
  A pattern with operators (``AND``, ``FOLLOWEDBY``, qualifiers…) is kept by its values: an
  observable equal to one of them matches (a sighting of one part of a compound pattern is
  worth showing; the pattern itself is stored with the indicator).

A value is returned as the source spells it (``(kind, raw)``, string escapes resolved); the
caller canonicalises it (:func:`feeds.rules.keys.index_value`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

# (object type, property path) → observable type
SUPPORTED: dict[tuple[str, str], str] = {
    ("ipv4-addr", "value"): "ipv4",
    ("ipv6-addr", "value"): "ipv6",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    ("email-message", "from_ref.value"): "email",
    ("file", "hashes.MD5"): "md5",
    ("file", "hashes.SHA-1"): "sha1",
    ("file", "hashes.SHA-256"): "sha256",
}
NETWORKS = ("ipv4", "ipv6")
_HASH_NAMES = {"MD5": "MD5", "SHA1": "SHA-1", "SHA256": "SHA-256"}

_FAST = re.compile(
    r"\[\s*(?P<object>ipv4-addr|ipv6-addr|domain-name|url|email-addr|email-message|file)"
    r":(?P<path>value|from_ref\.value|hashes\.(?:MD5|'MD5'|'SHA-1'|'SHA-256'))"
    r"\s*(?P<op>=|ISSUBSET)\s*'(?P<literal>(?:[^'\\]|\\['\\])*)'\s*\]"
)
_ESCAPE = re.compile(r"\\(['\\])")


class InvalidPattern(ValueError):
    """The pattern is not valid STIX 2.1 pattern syntax (the message is the parser's)."""


def unescape(literal: str) -> str:
    """A string literal's content with ``\\'`` and ``\\\\`` resolved."""
    return _ESCAPE.sub(r"\1", literal) if "\\" in literal else literal


def fast(pattern: str) -> tuple[str, str] | None:
    """``(kind, raw value)`` of a single supported comparison, or ``None`` (use :func:`values`)."""
    found = _FAST.fullmatch(pattern)
    if found is None:
        return None
    kind = SUPPORTED.get((found["object"], found["path"].replace("'", "")))
    if kind is None or (found["op"] == "ISSUBSET" and kind not in NETWORKS):
        return None
    return kind, unescape(found["literal"])


def values(pattern: str) -> list[tuple[str, str]]:
    """Every supported value of ``pattern`` (fast path first); :class:`InvalidPattern`."""
    single = fast(pattern)
    if single is not None:
        return [single]
    return parsed_values(pattern)


def parsed_values(pattern: str) -> list[tuple[str, str]]:
    """The ``stix2patterns`` path: validate ``pattern`` and collect its supported values."""
    comparisons = _inspect(pattern)
    found: list[tuple[str, str]] = []
    for object_type, entries in comparisons.items():
        for path, operator, literal in entries:
            kind = SUPPORTED.get((object_type, _path(path)))
            if kind is None:
                continue
            found.extend((kind, raw) for raw in _literals(kind, operator, literal))
    return list(dict.fromkeys(found))


def _path(parts: list[Any]) -> str:
    names = [str(part) for part in parts]
    if len(names) == 2 and names[0] == "hashes":
        names[1] = _HASH_NAMES.get(names[1].upper().replace("-", ""), names[1])
    return ".".join(names)


def _literals(kind: str, operator: str, literal: str) -> list[str]:
    if operator == "=" or (operator == "ISSUBSET" and kind in NETWORKS):
        return [unescape(literal[1:-1])] if _is_string(literal) else []
    if operator == "IN":
        inner = literal.strip()[1:-1]
        return [unescape(item[1:-1]) for item in _split_set(inner) if _is_string(item)]
    return []


def _is_string(literal: str) -> bool:
    return len(literal) >= 2 and literal[0] == "'" and literal[-1] == "'"


def _split_set(inner: str) -> list[str]:
    return [match.group(0) for match in re.finditer(r"'(?:[^'\\]|\\['\\])*'|[^,\s]+", inner)]


def _inspect(pattern: str) -> dict[str, list[tuple[list[Any], str, str]]]:
    # imported here: the grammar costs ~0.1 s to load and most feeds never need it
    from stix2patterns.exceptions import ParseException
    from stix2patterns.v21 import object_validator
    from stix2patterns.v21.pattern import Pattern
    from stix2patterns.v21.validator import DuplicateQualifierTypeError

    listener = _listener()()
    try:
        Pattern(pattern).walk(listener)  # one walk: values and qualifier checks
    except (ParseException, DuplicateQualifierTypeError) as exc:
        raise InvalidPattern(f"invalid STIX pattern: {exc}") from None
    data = listener.pattern_data()
    errors = object_validator.verify_object(data)
    if errors:
        raise InvalidPattern(f"invalid STIX pattern: {'; '.join(map(str, errors))}")
    comparisons: dict[str, list[tuple[list[Any], str, str]]] = data.comparisons
    return comparisons


@functools.cache
def _listener() -> type[Any]:
    """``stix2patterns``' inspection and validation listeners as one (they share no method)."""
    from stix2patterns.v21.inspector import InspectionListener
    from stix2patterns.v21.validator import ValidationListener

    class Listener(InspectionListener, ValidationListener):  # type: ignore[misc]
        def __init__(self) -> None:
            InspectionListener.__init__(self)
            ValidationListener.__init__(self)

    return Listener
