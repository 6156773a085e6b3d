"""Known-benign values: the MISP warning lists (``pymispwarninglists``, offline; Flask-free).

A value on one of the lists in :data:`BENIGN_LISTS` is known-benign: an incident's observable
on one is stored with the lists' names (``IncidentObservable.warning_lists``), shown as such and
never raises a match; ``POST /api/v1/enrich`` returns the names with each result.

Which lists count is a decision, not all of MISP's: only lists of shared infrastructure whose
appearance in a report says nothing about an attacker — public DNS resolvers, the address
ranges of the major CDNs and of big providers' shared front ends, special-use addresses and
names, certificate-revocation endpoints, known research scanners, the well-known domains of
Google and Microsoft, the top-1,000 sites (exact names only), hashes of empty files, of CA
certificates and common false positives, the EICAR test file. Lists that *inform* rather than
excuse are left out: sinkholes (an infected host talking to one is news), VPN exits, cloud
hosting ranges (AWS, Azure, GCP, OVH rent machines to attackers), dynamic DNS, URL shorteners,
parking, disposable e-mail, IPFS gateways, the top-million lists and lists matching whole
domain trees of sites where anyone may host content. The documentation ranges (RFC 5735's
192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849's 2001:db8::/32) are left out too:
exercises, demonstrations and tests use them as attackers' addresses, and the incident file
already marks them as documentation (:mod:`incidents.observables.scope`).

Matching: addresses against the lists' addresses and networks (any prefix); a domain against
exact names, and against the names of ``hostname`` lists and all their sub-domains; a hash or
URL exactly. The lists are loaded once per process, at first use and under a lock (about a
second for the chosen lists); every lookup after that is a few set look-ups.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from feeds.rules.observables import ObservableType

# the lists counted as known-benign, by their directory in misp-warninglists
BENIGN_LISTS = frozenset(
    {
        # resolvers, CDNs and shared front ends
        "public-dns-v4", "public-dns-v6", "public-dns-hostname",
        "akamai", "cloudflare", "fastly", "stackpath", "zscaler", "apple", "github",
        "google-gmail-sending-ips", "googlebot", "openai-gptbot", "wikimedia",
        "microsoft-office365", "microsoft-office365-ip", "microsoft-office365-cn",
        "microsoft-win10-connection-endpoints", "microsoft", "google",
        "umbrella-blockpage-v4", "umbrella-blockpage-v6", "umbrella-blockpage-hostname",
        "crl-ip", "crl-hostname", "captive-portals", "cisco_top1000", "moz-top500",
        # special-use addresses and names
        "rfc1918", "rfc6598", "ipv6-linklocal", "multicast", "rfc6761",
        "tlds", "second-level-tlds",
        # research scanners
        "alphastrike-research-nt-scanning", "alphastrike-scanning", "bufferover-nt-scanning",
        "censys-scanning", "coalition-signals-intelligence-nt-scanning",
        "cybergreen-nt-scanning", "cyberresilience-nt-scanning", "cypex-nt-scanning",
        "f6-nt-scanning", "internet-census-nt-scanning", "intrinsec-nt-scanning",
        "ipinfo-nt-scanning", "ipip-nt-scanning", "modat-nt-scanning", "modat-scanner",
        "netsecscan-nt-scanning", "netsecscan-scanning", "onyphe-nt-scanning", "onyphe-scanner",
        "probethenet-nt-scanning", "rapid7-nt-scanning", "research-scanner-nt-scanning",
        "shadowforce-nt-scanning", "shadowforce-scanning", "shadowserver",
        "shadowserver-nt-scanning", "shodan-nt-scanning", "shodan-scanning",
        "skipa-nt-scanning", "tenable-cloud-ipv4", "tenable-cloud-ipv6", "check-host-net",
        # hashes
        "empty-hashes", "common-ioc-false-positive", "ti-falsepositives", "nioc-filehash",
        "mozilla-CA", "mozilla-IntermediateCA", "eicar.com",
    }
)  # fmt: skip
_ADDRESS_ATTRIBUTES = {"ip-src", "ip-dst"}
_NAME_ATTRIBUTES = {"domain", "hostname"}
_HASH_ATTRIBUTES = {"md5", "sha1", "sha256"}


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")  # canonical dotted quad: kept as it is


@dataclass(slots=True)
class _Lists:
    """The chosen lists, indexed: exact values, networks, names with their sub-domains."""

    exact: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (kind, value)
    networks: dict[tuple[int, int, int], list[str]] = field(default_factory=dict)
    domain_trees: dict[str, list[str]] = field(default_factory=dict)


_lock = threading.Lock()
_loaded: dict[str, _Lists] = {}  # "lists" once loaded (a dict: no global statement)


def warning_lists(kind: str, value: str) -> list[str]:
    """The names of the known-benign lists the canonical ``kind``/``value`` is on (sorted;
    empty for most values)."""
    lists = _lists()
    found = set(lists.exact.get((kind, value), ()))
    if kind in (ObservableType.IPV4, ObservableType.IPV6):
        found.update(_in_networks(lists, value))
    elif kind == ObservableType.DOMAIN:
        labels = value.split(".")
        for start in range(len(labels)):
            found.update(lists.domain_trees.get(".".join(labels[start:]), ()))
    return sorted(found)


def preload() -> None:
    """Load the lists now (a process that will need them soon pays the cost up front)."""
    _lists()


def _lists() -> _Lists:
    lists = _loaded.get("lists")
    if lists is None:
        with _lock:  # one thread loads, the others wait for it
            lists = _loaded.get("lists")
            if lists is None:
                lists = _loaded["lists"] = _load()
    return lists


def _in_networks(lists: _Lists, value: str) -> set[str]:
    address = ipaddress.ip_address(value)
    number, top = int(address), address.max_prefixlen
    found: set[str] = set()
    for prefix in range(top + 1):
        key = (address.version, prefix, number >> (top - prefix) << (top - prefix))
        found.update(lists.networks.get(key, ()))
    return found


def _package_dir() -> Path:
    """The package's folder, found without importing it (its import loads jsonschema: ~1 s of
    start-up for every command; only its data files are read)."""
    spec = importlib.util.find_spec("pymispwarninglists")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("pymispwarninglists is not installed", name="pymispwarninglists")
    return Path(spec.origin).parent


def _load() -> _Lists:
    root = _package_dir() / "data" / "misp-warninglists" / "lists"
    lists = _Lists()
    for slug in sorted(BENIGN_LISTS):
        path = root / slug / "list.json"
        if path.exists():  # a list renamed or dropped by a newer package: skip it
            _index(lists, json.loads(path.read_text(encoding="utf-8")))
    return lists


def _index(lists: _Lists, data: dict[str, object]) -> None:
    name = str(data["name"])
    kind_of_list = str(data["type"])
    attributes = set(data.get("matching_attributes") or ())  # type: ignore[call-overload]
    entries = {str(e).strip().lower().lstrip(".") for e in data["list"]}  # type: ignore[attr-defined]
    exact: set[tuple[str, str]] = set()
    networks: set[tuple[int, int, int]] = set()
    if kind_of_list == "cidr" or attributes & _ADDRESS_ATTRIBUTES and kind_of_list == "string":
        for entry in entries:
            _add_address(exact, networks, entry)
    elif kind_of_list == "hostname":
        for entry in entries:
            lists.domain_trees.setdefault(entry, []).append(name)
    elif kind_of_list == "string":
        exact = _strings(entries, attributes)
    for key in exact:
        lists.exact.setdefault(key, []).append(name)
    for net in networks:
        lists.networks.setdefault(net, []).append(name)


def _add_address(
    exact: set[tuple[str, str]], networks: set[tuple[int, int, int]], entry: str
) -> None:
    if _IPV4.fullmatch(entry):
        exact.add((ObservableType.IPV4, entry))
        return
    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return  # a list's odd line: nothing to match
    if network.prefixlen == network.max_prefixlen:
        kind = ObservableType.IPV4 if network.version == 4 else ObservableType.IPV6
        exact.add((kind, str(network.network_address)))
    else:
        networks.add((network.version, network.prefixlen, int(network.network_address)))


_HASH_KINDS = {32: ObservableType.MD5, 40: ObservableType.SHA1, 64: ObservableType.SHA256}


def _strings(entries: set[str], attributes: set[str]) -> set[tuple[str, str]]:
    if attributes & _HASH_ATTRIBUTES:
        return {(_HASH_KINDS[len(e)], e) for e in entries if len(e) in _HASH_KINDS}
    if attributes & _NAME_ATTRIBUTES:
        return {(ObservableType.DOMAIN, e) for e in entries}
    return set()
