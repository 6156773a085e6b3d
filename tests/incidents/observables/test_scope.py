"""The pure rule of external indicators (:mod:`incidents.observables.scope`): a table of addresses
and names, IPv4 and IPv6, and the constituency's registered ranges and domains."""

from __future__ import annotations

import pytest

from incidents.observables.scope import Constituency, Owner, Scope, classify

INTERIEUR = Owner(1, "Ministère de l'Intérieur", "وزارة الداخلية")
SANTE = Owner(2, "Ministère de la Santé")
CONSTITUENCY = Constituency(
    ranges=[("196.200.128.0/20", INTERIEUR), ("196.200.130.0/24", SANTE), ("2a01:9f0::/32", SANTE)],
    domains=[("interieur.gov.ma", INTERIEUR), ("sante.gov.ma", SANTE)],
)

TABLE = [
    # IPv4
    ("ipv4", "185.220.101.4", Scope.EXTERNAL),
    ("ipv4", "8.8.8.8", Scope.EXTERNAL),
    ("ipv4", "10.12.4.57", Scope.PRIVATE),  # the example
    ("ipv4", "172.16.0.1", Scope.PRIVATE),
    ("ipv4", "172.31.255.254", Scope.PRIVATE),
    ("ipv4", "172.32.0.1", Scope.EXTERNAL),  # just outside 172.16.0.0/12
    ("ipv4", "192.168.1.10", Scope.PRIVATE),
    ("ipv4", "100.64.0.1", Scope.PRIVATE),  # shared address space (RFC 6598)
    ("ipv4", "127.0.0.1", Scope.LOOPBACK),
    ("ipv4", "127.8.9.10", Scope.LOOPBACK),
    ("ipv4", "169.254.10.20", Scope.LINK_LOCAL),
    ("ipv4", "192.0.2.1", Scope.DOCUMENTATION),  # TEST-NET-1
    ("ipv4", "198.51.100.23", Scope.DOCUMENTATION),  # TEST-NET-2
    ("ipv4", "203.0.113.99", Scope.DOCUMENTATION),  # TEST-NET-3
    ("ipv4", "224.0.0.251", Scope.MULTICAST),
    ("ipv4", "239.255.255.250", Scope.MULTICAST),
    ("ipv4", "0.0.0.0", Scope.RESERVED),  # noqa: S104 - a value, not a binding
    ("ipv4", "240.1.2.3", Scope.RESERVED),
    ("ipv4", "255.255.255.255", Scope.RESERVED),
    ("ipv4", "198.18.0.1", Scope.RESERVED),  # benchmarking
    # IPv6
    ("ipv6", "2a00:1450:4007:80e::200e", Scope.EXTERNAL),
    ("ipv6", "::1", Scope.LOOPBACK),
    ("ipv6", "fe80::1", Scope.LINK_LOCAL),
    ("ipv6", "fd12:3456:789a::1", Scope.PRIVATE),  # unique local
    ("ipv6", "2001:db8::1", Scope.DOCUMENTATION),
    ("ipv6", "3fff::1", Scope.DOCUMENTATION),  # RFC 9637
    ("ipv6", "ff02::1", Scope.MULTICAST),
    ("ipv6", "::", Scope.RESERVED),
    ("ipv6", "::ffff:10.1.2.3", Scope.PRIVATE),  # judged as its IPv4 address
    ("ipv6", "::ffff:185.220.101.4", Scope.EXTERNAL),
    # names (RFC 2606, 6761, 6762, 8375)
    ("domain", "webmail-interieur.com", Scope.EXTERNAL),
    ("domain", "evil.onion", Scope.EXTERNAL),
    ("domain", "example.com", Scope.DOCUMENTATION),
    ("domain", "www.example.org", Scope.DOCUMENTATION),
    ("domain", "evil.example", Scope.DOCUMENTATION),
    ("domain", "notexample.com", Scope.EXTERNAL),
    ("domain", "printer.test", Scope.DOCUMENTATION),
    ("domain", "a.invalid", Scope.RESERVED),
    ("domain", "app.localhost", Scope.LOOPBACK),
    ("domain", "nas.local", Scope.PRIVATE),
    ("domain", "dc01.corp", Scope.PRIVATE),
    ("domain", "srv.internal", Scope.PRIVATE),
    ("domain", "router.home.arpa", Scope.PRIVATE),
    # URLs by their host, e-mail addresses by their domain
    ("url", "https://evil-login.com/x.php", Scope.EXTERNAL),
    ("url", "http://10.0.0.5:8080/admin", Scope.PRIVATE),
    ("url", "http://[::1]/", Scope.LOOPBACK),
    ("url", "http://[2001:db8::5]/x", Scope.DOCUMENTATION),
    ("url", "https://intranet.example.net/", Scope.DOCUMENTATION),
    ("url", "http://localhost/x", Scope.LOOPBACK),
    ("email", "securite@interieur-gov.ma", Scope.EXTERNAL),
    ("email", "a@example.com", Scope.DOCUMENTATION),
    # neither addresses nor names: always external
    ("sha256", "a" * 63 + "1", Scope.EXTERNAL),
    ("md5", "d41d8cd98f00b204e9800998ecf8427e", Scope.EXTERNAL),
    ("cve", "CVE-2024-3400", Scope.EXTERNAL),
]


@pytest.mark.parametrize(("kind", "value", "scope"), TABLE)
def test_each_observable_gets_its_mark(kind: str, value: str, scope: Scope) -> None:
    mark = classify(kind, value)
    assert mark.scope is scope
    assert mark.external is (scope is Scope.EXTERNAL)
    assert mark.owner is None


OWN = [
    ("ipv4", "196.200.129.7", INTERIEUR),
    ("ipv4", "196.200.130.7", SANTE),  # the narrower registration wins
    ("ipv4", "196.200.143.255", INTERIEUR),
    ("ipv6", "2a01:9f0:1::7", SANTE),
    ("ipv6", "::ffff:196.200.129.7", INTERIEUR),
    ("domain", "interieur.gov.ma", INTERIEUR),
    ("domain", "webmail.interieur.gov.ma", INTERIEUR),
    ("email", "rssi@sante.gov.ma", SANTE),
    ("url", "https://portail.sante.gov.ma/login", SANTE),
    ("url", "http://196.200.131.1/", INTERIEUR),
]


@pytest.mark.parametrize(("kind", "value", "owner"), OWN)
def test_the_constituency_s_own_ranges_and_domains(kind: str, value: str, owner: Owner) -> None:
    mark = classify(kind, value, CONSTITUENCY)
    assert (mark.scope, mark.owner, mark.external) == (Scope.OWN, owner, False)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("ipv4", "196.200.144.1"),  # just past the /20
        ("ipv4", "196.200.127.255"),  # just before it
        ("domain", "interieur-gov.ma"),  # look-alike, not a sub-domain
        ("domain", "xinterieur.gov.ma"),
        ("domain", "gov.ma"),  # the parent of a registered domain is not the constituency's
        ("email", "x@sante.gov.ma.evil.com"),
        ("ipv6", "2a01:9f1::1"),
    ],
)
def test_near_misses_stay_external(kind: str, value: str) -> None:
    assert classify(kind, value, CONSTITUENCY).external


def test_the_constituency_s_own_registration_comes_before_private() -> None:
    """A ministry registers its internal range: the analyst reads whose it is."""
    own = Constituency(ranges=[("10.12.0.0/16", INTERIEUR)])
    assert classify("ipv4", "10.12.4.57", own).owner == INTERIEUR
    assert classify("ipv4", "10.13.4.57", own).scope is Scope.PRIVATE
