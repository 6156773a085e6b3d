"""Context heuristics: would a careful analyst count this candidate as an observable?

Pure module (no DB, no HTTP), used by :mod:`incidents.observables.extraction` on refanged text. Each
function looks at a bounded window around a candidate, so extraction stays linear. Defanged
candidates never reach these rules: defanging is evidence enough.
"""

from __future__ import annotations

import ipaddress
import re

from feeds.rules import values
from feeds.rules.values import InvalidObservable

__all__ = ["capitalised", "ipv6_value", "not_a_domain", "not_a_host", "previous_word"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_CIDR_SUFFIX = re.compile(r"/[0-9]")
_PREVIOUS_WORD = re.compile(r"([^\W_]+|[§#°])[^\w§#°]{0,6}\Z")
_NEXT_WORD = re.compile(r"[^\w€$£]{0,3}([^\W\d_]+|[€$£])")
_NOT_HOST_WORDS = _words(
    "version versions ver v build release révision revision rev firmware patch correctif "
    "section sections chapitre chapter paragraphe paragraph annexe appendix article articles "
    "art § # ° numéro number ticket point oid masque mask netmask"
)
_CURRENCIES = _words("mad dh dhs dirham dirhams eur euro euros usd dollar dollars € $ £")


def previous_word(text: str, start: int) -> str:
    """The word (or ``§``, ``#``, ``°``) just before ``start``, lower-cased, 40 characters back."""
    match = _PREVIOUS_WORD.search(text, max(0, start - 40), start)
    return match.group(1).lower() if match else ""


def ipv6_value(token: str) -> str | None:
    """Canonical IPv6 of a colon token, or None for times, MAC addresses and the like."""
    token = token.rstrip(".")
    if token.endswith(":") and not token.endswith("::"):
        token = token[:-1]
    groups = token.split(":")
    if "::" not in token and all(len(group) <= 2 for group in groups):
        return None
    if not any(char.isalnum() for char in token):
        return None
    try:
        return values.ipv6(token)
    except InvalidObservable:
        return None


_VERSION_WORDS = _words("version versions build release firmware révision revision patch correctif")
# up to three words back in the same clause: "version du client 1.2.3.4", "build n° 6.1.7601.1"
_CLAUSE_BEFORE = re.compile(r"([^\W\d_]+)(?:[^\w.;:!?\n]{1,4}[\w°]+){1,3}[^\w.;:!?\n]{1,4}\Z")


def _version_in_clause(text: str, start: int) -> bool:
    match = _CLAUSE_BEFORE.search(text, max(0, start - 60), start)
    return match is not None and match.group(1).lower() in _VERSION_WORDS


def not_a_host(text: str, start: int, end: int, value: str) -> bool:
    """An IPv4-shaped value that a careful analyst would not count as an address."""
    if _CIDR_SUFFIX.match(text, end) or previous_word(text, start) in _NOT_HOST_WORDS:
        return True
    if _version_in_clause(text, start):
        return True
    following = _NEXT_WORD.match(text, end)
    if following is not None and following.group(1).lower() in _CURRENCIES:
        return True
    bits = f"{int(ipaddress.IPv4Address(value)):032b}"
    return value.startswith("255.") and "01" not in bits  # a netmask


_FILE_EXTENSION_TLDS = _words("zip mov py sh md so pub one cab pm")
_FILE_WORDS = _words(
    "fichier fichiers file files filename nom attachment attachments attached pj joint jointe "
    "joints jointes archive archives script scripts exécutable exécutables executable binaire "
    "binaires binary binaries document documents nommé nommée named sample échantillon "
    "payload library bibliothèque librairie module"
)
_SIZE_AFTER = re.compile(
    r"[ \t\u00a0\u202f]{0,3}[(\[,–-]?[ \t\u00a0\u202f]{0,3}[0-9]{1,9}(?:[.,][0-9]{1,3})?"
    r"[ \t\u00a0\u202f]{0,3}(?:[kmgt]i?[bo]|bytes?|octets?)\b",
    re.IGNORECASE,
)
_PRODUCT_NAMES = frozenset({"asp.net", "vb.net", "ado.net", "socket.io"})
_REVERSED_ROOTS = _words("com org net io fr de ma edu gov eu")
_CODE_ROOTS = _words("self this cls window document")


def capitalised(label: str) -> bool:
    return label[:1].isupper() and not label.isupper()


def _in_path(text: str, start: int) -> bool:
    """After ``dir/`` or a single backslash: a file path (``//host`` and ``\\\\host`` are not)."""
    before = text[start - 1 : start] if start else ""
    prior = text[start - 2 : start - 1] if start > 1 else ""
    if before == "\\":
        return prior != "\\"
    return before == "/" and prior != "" and (prior.isalnum() or prior in "._-")


def not_a_domain(text: str, start: int, end: int, written: str, host: str) -> bool:
    """A name under a real TLD that a careful analyst would not count as a domain."""
    labels = host.split(".")
    return (
        not written.isascii()
        or labels[-1] in _FILE_EXTENSION_TLDS
        or host in _PRODUCT_NAMES
        or labels[0] in _CODE_ROOTS
        or (len(labels) >= 3 and labels[0] in _REVERSED_ROOTS)
        or text.startswith("(", end)
        or _in_path(text, start)
        or previous_word(text, start) in _FILE_WORDS
        or _SIZE_AFTER.match(text, end) is not None
    )
