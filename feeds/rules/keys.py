"""Index keys: how an indicator's value is stored and which stored values an observable meets
(pure module).

The index holds ``(kind, value)`` pairs (:mod:`feeds.models`, ``indicator_values``); a lookup
is one equality per key, so every way of matching is a set of keys computed here:

* exact — the observable's own canonical value;
* ``network`` — an IPv4 address meets every stored network containing it: its networks from
  /8 to /31 (IPv6: /16 to /127) are enumerated as keys (``198.51.100.0/24``…); networks
  broader than /8 (/16) are refused at import as too broad to mean anything;
* ``parent-domain`` — a domain meets its parent domains, up to but not including the top-level
  label (``a.b.evil.example`` → ``b.evil.example``, ``evil.example``);
* ``url-host`` — a URL meets its host, as a domain (and its parents) or an address (and its
  networks).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Collection
from typing import NamedTuple
from urllib.parse import urlsplit

from feeds.rules.observables import ObservableType, canonicalise
from feeds.rules.records import IndexValue
from feeds.rules.values import InvalidObservable

MIN_PREFIX = {4: 8, 6: 16}
MAX_VALUE = 2048  # indicator_values.value
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# values already in their canonical spelling, returned as they are (bulk imports: most are)
_CANONICAL = {
    ObservableType.IPV4: re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}"),
    ObservableType.MD5: re.compile("[0-9a-f]{32}"),
    ObservableType.SHA1: re.compile("[0-9a-f]{40}"),
    ObservableType.SHA256: re.compile("[0-9a-f]{64}"),
}


class Why(enum.StrEnum):
    """Why an observable matched an indicator (the API's ``why``)."""

    EXACT = "exact"
    NETWORK = "network"
    PARENT_DOMAIN = "parent-domain"
    URL_HOST = "url-host"


class Key(NamedTuple):
    """One stored ``(kind, value)`` an observable meets, and why (a named tuple: a lookup of
    1,000 observables builds ~10,000 of them)."""

    kind: str
    value: str
    why: Why


def index_value(kind: str, raw: str) -> IndexValue:
    """The stored form of an indicator value; ``InvalidObservable`` naming the problem.

    ``ipv4``/``ipv6`` accept a network (``198.51.100.0/24``): stored as its network address
    and prefix; a host address with a prefix (``198.51.100.7/24``) is refused, as a /32 (/128)
    is stored as the address itself."""
    if kind in (ObservableType.IPV4, ObservableType.IPV6) and "/" in raw:
        return IndexValue(kind, network(kind, raw.strip()))
    canonical = _CANONICAL.get(kind)  # type: ignore[call-overload]
    if canonical is not None and canonical.fullmatch(raw):
        return IndexValue(kind, raw)
    value = canonicalise(kind, raw)
    if len(value) > MAX_VALUE:
        raise InvalidObservable(f"{kind} value longer than {MAX_VALUE} characters: {value[:60]}…")
    return IndexValue(kind, value)


def network(kind: str, raw: str) -> str:
    version = 4 if kind == ObservableType.IPV4 else 6
    try:
        net = ipaddress.ip_network(raw, strict=True)
    except ValueError as exc:
        raise InvalidObservable(f"not an {kind} network: {raw!r} ({exc})") from None
    if net.version != version:
        raise InvalidObservable(f"not an {kind} network: {raw!r}")
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    if net.prefixlen < MIN_PREFIX[version]:
        raise InvalidObservable(
            f"network {raw} is broader than /{MIN_PREFIX[version]}: too broad to match on"
        )
    return f"{net.network_address}/{net.prefixlen}"


def network_range(value: str) -> tuple[str, str] | None:
    """First and last address of a stored network as 32 hex digits (``None`` for an address)."""
    if "/" not in value:
        return None
    net = ipaddress.ip_network(value)
    return f"{int(net.network_address):032x}", f"{int(net.broadcast_address):032x}"


def lookup_keys(kind: str, value: str, *, prefixes: Collection[int] | None = None) -> list[Key]:
    """Every stored ``(kind, value)`` an observable (canonical ``kind``/``value``) meets.

    ``prefixes`` keeps, of an address's networks, only those of these prefix lengths (the
    retro-hunt knows which lengths the new networks have); ``None``: every length."""
    if kind in (ObservableType.IPV4, ObservableType.IPV6):
        return _address_keys(kind, value, Why.EXACT, prefixes)
    if kind == ObservableType.DOMAIN:
        return _domain_keys(value, Why.EXACT)
    if kind == ObservableType.URL:
        return [Key(kind, value, Why.EXACT), *_host_keys(value, prefixes)]
    return [Key(kind, value, Why.EXACT)]


def _address_keys(
    kind: str, value: str, why: Why, prefixes: Collection[int] | None = None
) -> list[Key]:
    # built from the address's octets (IPv4) or integer (IPv6): an ``ip_network`` per prefix
    # cost ~50 µs, 24 per IPv4 observable (bench/enrich.py); the strings are the same
    address = ipaddress.ip_address(value)
    networks_why = Why.URL_HOST if why is Why.URL_HOST else Why.NETWORK
    if address.version == 4:
        spelt = _ipv4_networks(int(address))
    else:
        number = int(address)
        spelt = [
            f"{ipaddress.IPv6Address(number >> (128 - p) << (128 - p))}/{p}"
            for p in range(127, MIN_PREFIX[6] - 1, -1)
        ]
    if prefixes is not None:
        spelt = [net for net in spelt if int(net.rsplit("/", 1)[1]) in prefixes]
    return [Key(kind, value, why), *(Key(kind, net, networks_why) for net in spelt)]


_OCTET_MASK = [(0xFF << (8 - bits)) & 0xFF for bits in range(8)]


def _ipv4_networks(number: int) -> list[str]:
    """``a.b.c.d/31`` down to ``a.0.0.0/8``: the networks containing an IPv4 address."""
    a, b, c, d = number >> 24, (number >> 16) & 255, (number >> 8) & 255, number & 255
    head3, head2, head1 = f"{a}.{b}.{c}.", f"{a}.{b}.", f"{a}."
    spelt = [f"{head3}{d & _OCTET_MASK[p - 24]}/{p}" for p in range(31, 23, -1)]
    spelt += [f"{head2}{c & _OCTET_MASK[p - 16]}.0/{p}" for p in range(23, 15, -1)]
    spelt += [f"{head1}{b & _OCTET_MASK[p - 8]}.0.0/{p}" for p in range(15, 7, -1)]
    return spelt


def _domain_keys(value: str, why: Why) -> list[Key]:
    keys = [Key(ObservableType.DOMAIN, value, why)]
    labels = value.split(".")
    parents_why = Why.URL_HOST if why is Why.URL_HOST else Why.PARENT_DOMAIN
    for start in range(1, len(labels) - 1):
        keys.append(Key(ObservableType.DOMAIN, ".".join(labels[start:]), parents_why))
    return keys


def _host_keys(url: str, prefixes: Collection[int] | None = None) -> list[Key]:
    host = (urlsplit(url).hostname or "").strip("[]")
    if not host:
        return []
    if not (host[-1].isdigit() or ":" in host):  # a name (no address ends with a letter
        return _domain_keys(host, Why.URL_HOST) if "." in host else []  # but IPv6's, with ":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return _domain_keys(host, Why.URL_HOST) if "." in host else []
    kind = ObservableType.IPV4 if address.version == 4 else ObservableType.IPV6
    return _address_keys(kind, str(address), Why.URL_HOST, prefixes)
