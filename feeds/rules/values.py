"""Canonical forms of single observable values, shared by extraction and explicit API values.

Pure module (no DB, no HTTP). Every function takes an already refanged, stripped value and
returns its canonical spelling or raises :class:`InvalidObservable` (a ``ValueError``) whose
message names the problem.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import unicodedata
from importlib import resources
from urllib.parse import SplitResult, quote, urlsplit

from core.i18n import N_

__all__ = [
    "URL_SCHEMES",
    "InvalidObservable",
    "cve",
    "digest",
    "domain",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "is_known_tld",
    "url",
]


class InvalidObservable(ValueError):
    """An observable value that does not have the shape its type requires."""

    @property
    def reason(self) -> str:
        """The message as raised (a ``core.errors.Message``, which pages translate)."""
        first = self.args[0] if self.args else ""
        return first if isinstance(first, str) else str(self)


# Special-use names (RFC 2606, RFC 6761, ICANN's ``.internal``) and common private suffixes:
# accepted for explicit values (an analyst may record ``dc01.corp.local``), never extracted
# from prose. ``example`` (documentation, training material) and ``onion`` (Tor services, in
# every ransomware note) are special-use names that extraction does take.
PRIVATE_TLDS = frozenset(
    {
        "corp",
        "home",
        "internal",
        "intranet",
        "invalid",
        "lan",
        "local",
        "localdomain",
        "test",
    }
)
SPECIAL_TLDS = frozenset({"example", "onion"})

URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "sftp", "ws", "wss"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
_TLD_SHAPE = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_NUMERIC_HOST = re.compile(r"[0-9.]+")
_LOCAL_PART = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_CVE = re.compile(r"CVE-([0-9]{4})-([0-9]{4,})")
_DASHES = re.compile("[\u2010-\u2015\u2212]")
_HEX = frozenset("0123456789abcdef")


@functools.cache
def _public_tlds() -> frozenset[str]:
    raw = resources.files("feeds").joinpath("data/tlds.json").read_text(encoding="utf-8")
    return frozenset(json.loads(raw)["tlds"])


def is_known_tld(label: str, *, private: bool = False) -> bool:
    """Whether ``label`` (lower-case A-label) is a delegated TLD (or a special-use one)."""
    return label in _public_tlds() or label in SPECIAL_TLDS or (private and label in PRIVATE_TLDS)


def ipv4(value: str) -> str:
    """Dotted-quad IPv4; octets with a leading zero are refused (octal or decimal?)."""
    octets = value.split(".")
    if len(octets) != 4:
        raise InvalidObservable(
            N_(
                "IPv4 address %(value)s must have four dot-separated octets, not %(count)d",
                value=repr(value),
                count=len(octets),
            )
        )
    for octet in octets:
        if not (octet.isascii() and octet.isdigit()):
            raise InvalidObservable(
                N_(
                    "IPv4 octet %(octet)s in %(value)s is not a decimal number",
                    octet=repr(octet),
                    value=repr(value),
                )
            )
        if len(octet) > 1 and octet.startswith("0"):
            raise InvalidObservable(
                N_(
                    "IPv4 octet %(octet)s in %(value)s has a leading zero (octal or decimal?)",
                    octet=repr(octet),
                    value=repr(value),
                )
            )
        if int(octet) > 255:
            raise InvalidObservable(
                N_(
                    "IPv4 octet %(octet)s in %(value)s is out of range 0-255",
                    octet=octet,
                    value=repr(value),
                )
            )
    return str(ipaddress.IPv4Address(value))


def ipv6(value: str) -> str:
    """RFC 5952 text: lower-case, compressed; brackets and a zone (``%eth0``) are dropped.

    IPv4-mapped addresses keep their dotted suffix (``::ffff:192.0.2.1``) on every Python.
    """
    bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    bare = bare.split("%", 1)[0]
    try:
        address = ipaddress.IPv6Address(bare)
    except ipaddress.AddressValueError as exc:
        if _is_ipv4(bare):
            raise InvalidObservable(
                N_(
                    "%(value)s is not a valid IPv6 address: it is an IPv4 address",
                    value=repr(value),
                )
            ) from None
        raise InvalidObservable(
            N_("%(value)s is not a valid IPv6 address (%(why)s)", value=repr(value), why=str(exc))
        ) from None
    mapped = address.ipv4_mapped
    return f"::ffff:{mapped}" if mapped is not None else address.compressed


def _is_ipv4(value: str) -> bool:
    try:
        ipv4(value)
    except InvalidObservable:
        return False
    return True


def hostname(value: str) -> str:
    """Syntax-checked host name: lower-case A-labels (IDNA), no trailing dot."""
    host = value[:-1] if value.endswith(".") else value
    if not host:
        raise InvalidObservable(N_("empty host name"))
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidObservable(
                N_(
                    "%(value)s is not a valid internationalised name: %(why)s",
                    value=repr(value),
                    why=str(exc),
                )
            ) from None
    host = host.lower()
    if len(host) > 253:
        raise InvalidObservable(
            N_("host name %(value)s is longer than 253 characters", value=repr(value))
        )
    for label in host.split("."):
        if not _LABEL.fullmatch(label):
            raise InvalidObservable(
                N_(
                    "label %(label)s of %(value)s must be 1-63 letters, digits, '-' or '_', "
                    "not starting or ending with '-'",
                    label=repr(label),
                    value=repr(value),
                )
            )
    return host


def domain(value: str, *, private: bool = True) -> str:
    """A fully qualified domain name under a known TLD (or a private suffix if ``private``)."""
    if _NUMERIC_HOST.fullmatch(value):
        raise InvalidObservable(
            N_("%(value)s looks like an IP address, not a domain name", value=repr(value))
        )
    host = hostname(value)
    labels = host.split(".")
    if len(labels) < 2:
        raise InvalidObservable(
            N_("domain name %(value)s needs at least two labels", value=repr(value))
        )
    if not is_known_tld(labels[-1], private=private):
        raise InvalidObservable(
            N_("%(value)s does not end in a known top-level domain", value=repr(value))
        )
    return host


def email(value: str, *, private: bool = True) -> str:
    """``local@domain``, wholly lower-cased (providers treat local parts case-insensitively)."""
    local, at, domain_part = value.rpartition("@")
    if not at or not local or "@" in local:
        raise InvalidObservable(
            N_("e-mail address %(value)s must be local-part@domain", value=repr(value))
        )
    local = local.lower()
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        raise InvalidObservable(
            N_(
                "local part %(local)s of %(value)s is not a valid local part",
                local=repr(local),
                value=repr(value),
            )
        )
    return f"{local}@{domain(domain_part, private=private)}"


def digest(name: str, length: int, value: str) -> str:
    """A hexadecimal digest of exactly ``length`` characters, lower-cased."""
    lowered = value.lower()
    bad = next((char for char in lowered if char not in _HEX), None)
    if bad is not None:
        raise InvalidObservable(
            N_(
                "%(name)s %(value)s contains the non-hexadecimal character %(bad)s",
                name=name,
                value=repr(value),
                bad=repr(bad),
            )
        )
    if len(lowered) != length:
        raise InvalidObservable(
            N_(
                "%(name)s must be %(length)d hexadecimal characters, %(value)s has %(count)d",
                name=name,
                length=length,
                value=repr(value),
                count=len(lowered),
            )
        )
    return lowered


def cve(value: str) -> str:
    """``CVE-YYYY-NNNN…``, upper-cased; typographic dashes accepted."""
    normalised = _DASHES.sub("-", value).upper()
    match = _CVE.fullmatch(normalised)
    if match is None:
        raise InvalidObservable(
            N_("%(value)s is not a CVE identifier (CVE-YYYY-NNNN)", value=repr(value))
        )
    year, sequence = match.groups()
    if not 1999 <= int(year) <= 2099:
        raise InvalidObservable(
            N_("CVE year %(year)s in %(value)s is outside 1999-2099", year=year, value=repr(value))
        )
    if len(sequence) > 4 and sequence.startswith("0"):
        raise InvalidObservable(
            N_(
                "CVE sequence %(sequence)s longer than four digits has a leading 0",
                sequence=repr(sequence),
            )
        )
    return normalised


_HIDDEN = ("Cc", "Cf")  # Unicode control and format characters
_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")  # the ASCII characters of those categories
_WHITESPACE = re.compile(r"\s")


def url(value: str) -> tuple[str, str]:
    """Canonical URL and its canonical host.

    Scheme and host lower-cased (host in A-labels, no trailing dot), default port dropped,
    empty path written ``/`` (RFC 3986 §6.2.3); user info, path, query and fragment kept as
    written.
    """
    if _WHITESPACE.search(value):  # the same characters as str.isspace
        raise InvalidObservable(N_("URL %(value)s contains whitespace", value=repr(value)))
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InvalidObservable(
            N_("URL %(value)s cannot be parsed: %(why)s", value=repr(value), why=str(exc))
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        raise InvalidObservable(
            N_(
                "URL %(value)s must start with one of %(schemes)s",
                value=repr(value),
                schemes=", ".join(sorted(URL_SCHEMES)),
            )
        )
    host = url_host(parts)
    shown = f"[{host}]" if ":" in host else host
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + shown
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    canonical = f"{scheme}://{netloc}{parts.path or '/'}"
    if parts.query:
        canonical += f"?{parts.query}"
    if parts.fragment:
        canonical += f"#{parts.fragment}"
    # control and invisible format characters (NUL, bidirectional controls such as U+202E,
    # zero-width ones) would disguise what an analyst reads, and PostgreSQL cannot store a NUL:
    # percent-encoded, as a browser sends them, so that the URL stays the same resource
    if canonical.isascii() and _ASCII_CONTROL.search(canonical) is None:
        return canonical, host  # nothing hidden (the common case, without a loop per character)
    return "".join(quote(c) if unicodedata.category(c) in _HIDDEN else c for c in canonical), host


def url_host(parts: SplitResult) -> str:
    """The canonical host of a parsed URL: an IP address or a name of two labels or more."""
    raw = parts.hostname
    if not raw:
        raise InvalidObservable(N_("URL %(value)s has no host", value=repr(parts.geturl())))
    if ":" in raw:
        return ipv6(raw)
    if _NUMERIC_HOST.fullmatch(raw):
        return ipv4(raw)
    host = hostname(raw)
    labels = host.split(".")
    if len(labels) < 2 or not _TLD_SHAPE.fullmatch(labels[-1]):
        raise InvalidObservable(
            N_("URL host %(host)s is not a fully qualified name", host=repr(raw))
        )
    return host
