"""The common values of a big feed, stored without the full canonicalisation (pure module).

Most of a blocklist or a large MISP event is plain dotted-quad IPv4 addresses and hexadecimal
hashes, already in canonical spelling. :func:`quick_value` recognises those with one precise
regular expression each and returns them as they are (hashes lower-cased) — the same result as
:func:`feeds.rules.keys.index_value`, about ten times sooner; anything else (defanged, with a
prefix length, a leading zero, a domain, a URL…) goes through ``index_value``.
"""

from __future__ import annotations

import re

from feeds.rules.keys import index_value
from feeds.rules.observables import ObservableType
from feeds.rules.records import IndexValue

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
_HASHES = {
    ObservableType.MD5: re.compile(r"[0-9a-fA-F]{32}"),
    ObservableType.SHA1: re.compile(r"[0-9a-fA-F]{40}"),
    ObservableType.SHA256: re.compile(r"[0-9a-fA-F]{64}"),
}


def quick_value(kind: str, raw: str) -> IndexValue:
    """``index_value(kind, raw)``, sooner for plain IPv4 addresses and hashes."""
    if kind == ObservableType.IPV4 and _IPV4.fullmatch(raw):
        return IndexValue(ObservableType.IPV4, raw)
    pattern = _HASHES.get(kind)  # type: ignore[call-overload]
    if pattern is not None and pattern.fullmatch(raw):
        return IndexValue(kind, raw.lower())
    return index_value(kind, raw)
