"""Which observables are external indicators: the pure rule (no database, no Flask).

An observable is an *external indicator* (something that may be an attacker's infrastructure,
worth matching against other reports) unless it names an address or a name that cannot be one on
the Internet, or something the constituency itself registered:

* **own**: inside an IP range or under a domain an organisation of the constituency registered
  (``OrganisationAsset``, managed on the admin pages); checked first, since it is the most
  specific (a ministry may register its internal ``10.12.0.0/16``);
* **documentation**: TEST-NET-1/2/3 (``192.0.2.0/24``, ``198.51.100.0/24``, ``203.0.113.0/24``),
  ``2001:db8::/32`` and ``3fff::/20`` (RFC 5737, 3849, 9637); the names ``.example``, ``.test``
  and ``example.com``/``.net``/``.org`` (RFC 2606, 6761);
* **loopback**: ``127.0.0.0/8``, ``::1``, ``localhost`` and ``.localhost``;
* **link-local**: ``169.254.0.0/16``, ``fe80::/10``;
* **private**: RFC 1918, the shared address space ``100.64.0.0/10`` (RFC 6598), unique local
  ``fc00::/7``; the names ``.local`` (RFC 6762), ``home.arpa`` (RFC 8375) and the private
  suffixes analysts meet (``.internal``, ``.corp``, ``.lan``, ``.home``, ``.intranet``,
  ``.localdomain``);
* **multicast**: ``224.0.0.0/4``, ``ff00::/8``;
* **reserved**: every other address that is not globally routable (``0.0.0.0/8``, ``240.0.0.0/4``,
  the broadcast address, benchmarking ``198.18.0.0/15``, ``::``…) and the names ``.invalid``
  and ``.alt`` (RFC 6761, 9476).

An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) is judged as its IPv4 address; a URL by its
host, an e-mail address by its domain. Hashes and CVE identifiers are always external; so is
``.onion`` (Tor services are real infrastructure).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["EXTERNAL", "Constituency", "Mark", "Owner", "Scope", "classify"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Scope(enum.StrEnum):
    EXTERNAL = "external"
    OWN = "own"
    DOCUMENTATION = "documentation"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link_local"
    PRIVATE = "private"
    MULTICAST = "multicast"
    RESERVED = "reserved"


@dataclass(frozen=True, slots=True)
class Owner:
    """The organisation of the constituency that registered a range or a domain."""

    organisation_id: int
    name: str
    name_ar: str | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    scope: Scope
    owner: Owner | None = None  # for ``Scope.OWN``

    @property
    def external(self) -> bool:
        return self.scope is Scope.EXTERNAL


EXTERNAL = Mark(Scope.EXTERNAL)


def _table(*rows: tuple[str, Scope]) -> tuple[tuple[int, int, int, Scope], ...]:
    """(version, mask, network as an integer, scope): membership is two integer operations."""
    table = []
    for text, scope in rows:
        network = ipaddress.ip_network(text)
        table.append((network.version, int(network.netmask), int(network.network_address), scope))
    return tuple(table)


# in order: the first network holding the address gives its scope
_SPECIAL = _table(
    ("192.0.2.0/24", Scope.DOCUMENTATION),
    ("198.51.100.0/24", Scope.DOCUMENTATION),
    ("203.0.113.0/24", Scope.DOCUMENTATION),
    ("2001:db8::/32", Scope.DOCUMENTATION),
    ("3fff::/20", Scope.DOCUMENTATION),
    ("127.0.0.0/8", Scope.LOOPBACK),
    ("::1/128", Scope.LOOPBACK),
    ("169.254.0.0/16", Scope.LINK_LOCAL),
    ("fe80::/10", Scope.LINK_LOCAL),
    ("224.0.0.0/4", Scope.MULTICAST),
    ("ff00::/8", Scope.MULTICAST),
    ("10.0.0.0/8", Scope.PRIVATE),
    ("172.16.0.0/12", Scope.PRIVATE),
    ("192.168.0.0/16", Scope.PRIVATE),
    ("100.64.0.0/10", Scope.PRIVATE),
    ("fc00::/7", Scope.PRIVATE),
    # IPv4's other special-purpose blocks that are not globally reachable (RFC 6890); for
    # IPv6 the rest is left to ``ipaddress`` (``is_global``), rare enough not to matter
    ("0.0.0.0/8", Scope.RESERVED),
    ("192.0.0.0/24", Scope.RESERVED),
    ("198.18.0.0/15", Scope.RESERVED),
    ("240.0.0.0/4", Scope.RESERVED),  # with the broadcast address
)
_DOCUMENTATION_NAMES = frozenset({"example.com", "example.net", "example.org"})
_NAME_SCOPES = {
    "example": Scope.DOCUMENTATION,
    "test": Scope.DOCUMENTATION,
    "localhost": Scope.LOOPBACK,
    "local": Scope.PRIVATE,
    "internal": Scope.PRIVATE,
    "corp": Scope.PRIVATE,
    "home": Scope.PRIVATE,
    "intranet": Scope.PRIVATE,
    "lan": Scope.PRIVATE,
    "localdomain": Scope.PRIVATE,
    "invalid": Scope.RESERVED,
    "alt": Scope.RESERVED,
}


class Constituency:
    """The registered IP ranges and domains of the constituency's organisations.

    An address is looked up once per distinct prefix length registered (a dictionary probe
    each), a name once per label: the cost does not grow with the number of assets.
    """

    def __init__(
        self,
        ranges: Iterable[tuple[str, Owner]] = (),
        domains: Iterable[tuple[str, Owner]] = (),
    ) -> None:
        # (version, prefix length) → {network address as an integer: owner}
        self._ranges: dict[tuple[int, int], dict[int, Owner]] = {}
        for text, owner in ranges:
            network = ipaddress.ip_network(text, strict=False)
            by_length = self._ranges.setdefault((network.version, network.prefixlen), {})
            by_length.setdefault(int(network.network_address), owner)
        # longest prefixes first: the most specific registration wins
        self._lengths = sorted(self._ranges, key=lambda key: -key[1])
        self._domains: dict[str, Owner] = {}
        for name, owner in domains:
            self._domains.setdefault(name.lower().rstrip("."), owner)

    def owner_of_address(self, address: Address) -> Owner | None:
        value, bits = int(address), address.max_prefixlen
        for version, length in self._lengths:
            if version != address.version:
                continue
            shift = bits - length
            owner = self._ranges[(version, length)].get(value >> shift << shift)
            if owner is not None:
                return owner
        return None

    def owner_of_name(self, host: str) -> Owner | None:
        labels = host.split(".")
        for start in range(len(labels) - 1):  # a registered domain has two labels or more
            owner = self._domains.get(".".join(labels[start:]))
            if owner is not None:
                return owner
        return None


_NOBODY = Constituency()


def classify(type: str, value: str, constituency: Constituency = _NOBODY) -> Mark:  # noqa: A002
    """The mark of a canonical observable (``type`` as in :class:`ObservableType`)."""
    if type in ("ipv4", "ipv6"):
        return _address_mark(value, constituency)
    if type == "domain":
        return _name_mark(value.lower(), constituency)
    if type == "email":
        return _name_mark(value.rpartition("@")[2].lower(), constituency)
    if type == "url":
        try:
            host = urlsplit(value).hostname
        except ValueError:
            return EXTERNAL
        if not host:
            return EXTERNAL
        if ":" in host or host.replace(".", "").isdigit():
            return _address_mark(host, constituency)
        return _name_mark(host, constituency)
    return EXTERNAL  # hashes, CVE identifiers


def _address_mark(text: str, constituency: Constituency) -> Mark:
    try:
        address: Address = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return EXTERNAL
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    owner = constituency.owner_of_address(address)
    if owner is not None:
        return Mark(Scope.OWN, owner)
    return Mark(_address_scope(address))


def _address_scope(address: Address) -> Scope:
    value, version = int(address), address.version
    for net_version, mask, network, scope in _SPECIAL:
        if net_version == version and value & mask == network:
            return scope
    if version == 6 and (address.is_unspecified or address.is_reserved or not address.is_global):
        return Scope.RESERVED
    return Scope.EXTERNAL


def _name_mark(host: str, constituency: Constituency) -> Mark:
    host = host.rstrip(".")
    owner = constituency.owner_of_name(host)
    if owner is not None:
        return Mark(Scope.OWN, owner)
    labels = host.split(".")
    if host == "localhost":
        return Mark(Scope.LOOPBACK)
    if ".".join(labels[-2:]) in _DOCUMENTATION_NAMES:
        return Mark(Scope.DOCUMENTATION)
    if ".".join(labels[-2:]) == "home.arpa":
        return Mark(Scope.PRIVATE)
    scope = _NAME_SCOPES.get(labels[-1])
    return Mark(scope) if scope is not None else EXTERNAL
