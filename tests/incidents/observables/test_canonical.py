"""Canonicalisation of explicit observables (the API's {type, value}) (pure)."""

from __future__ import annotations

import pytest

from feeds.rules.values import InvalidObservable
from incidents.observables.extraction import (
    ObservableType,
    canonicalise,
)
from tests.incidents.observables.cases import MD5, SHA1, SHA256, case_id

# --- canonicalise -------------------------------------------------------------------------

CANONICAL = [
    ("ipv4", "192.0.2.1", "192.0.2.1"),
    ("ipv4", " 192.0.2.1 ", "192.0.2.1"),
    ("ipv4", "185.220.101[.]4", "185.220.101.4"),
    ("ipv4", "100.64.0.1", "100.64.0.1"),
    ("ipv6", "2001:DB8::1", "2001:db8::1"),
    ("ipv6", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("ipv6", "[2001:db8::1]", "2001:db8::1"),
    ("ipv6", "fe80::1%eth0", "fe80::1"),
    ("ipv6", "::FFFF:192.0.2.1", "::ffff:192.0.2.1"),
    ("ipv6", "::", "::"),
    ("domain", "Evil.Example.", "evil.example"),
    ("domain", "evil[.]example", "evil.example"),
    ("domain", "EVIL(dot)COM", "evil.com"),
    ("domain", "exämple.com", "xn--exmple-cua.com"),
    ("domain", "dc01.corp.local", "dc01.corp.local"),
    ("domain", "ad.ministere.internal", "ad.ministere.internal"),
    ("domain", "update.zip", "update.zip"),
    ("domain", "x.onion", "x.onion"),
    ("domain", "_dmarc.evil.ru", "_dmarc.evil.ru"),
    ("url", "hxxps[:]//Evil[.]COM:443", "https://evil.com/"),
    ("url", "HTTP://EVIL.example/A?b=C#D", "http://evil.example/A?b=C#D"),
    ("url", "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
    ("url", "ftp://files.evil.ru:21/x", "ftp://files.evil.ru/x"),
    ("url", "http://srv.corp.local/x", "http://srv.corp.local/x"),
    ("url", "http://user:pw@evil.ru:8443", "http://user:pw@evil.ru:8443/"),
    ("email", "John.Doe[at]Evil[.]COM", "john.doe@evil.com"),
    ("email", "admin@corp.local", "admin@corp.local"),
    ("email", "x+tag@evil.ru", "x+tag@evil.ru"),
    ("md5", MD5.upper(), MD5),
    ("md5", f"  {MD5}\n", MD5),
    ("md5", "1" * 32, "1" * 32),
    ("sha1", SHA1.upper(), SHA1),
    ("sha256", SHA256.upper(), SHA256),
    ("cve", "cve-2024-3400", "CVE-2024-3400"),
    ("cve", "CVE\u20112023\u20114966", "CVE-2023-4966"),
    ("cve", "CVE-2021-44228", "CVE-2021-44228"),
    (ObservableType.DOMAIN, "evil.example", "evil.example"),
]

INVALID = [
    ("ipv4", "999.1.1.1", "out of range"),
    ("ipv4", "1.2.3.256", "out of range"),
    ("ipv4", "01.2.3.4", "leading zero"),
    ("ipv4", "1.2.3", "four dot-separated octets"),
    ("ipv4", "1.2.3.4.5", "four dot-separated octets"),
    ("ipv4", "a.b.c.d", "not a decimal number"),
    ("ipv4", "1.2.3.٤", "not a decimal number"),
    ("ipv4", "2001:db8::1", "four dot-separated octets"),
    ("ipv4", "", "empty"),
    ("ipv4", "   ", "empty"),
    ("ipv6", "gggg::1", "not a valid IPv6"),
    ("ipv6", "1.2.3.4", "it is an IPv4 address"),
    ("ipv6", "10:30:45", "not a valid IPv6"),
    ("ipv6", "1::2::3", "not a valid IPv6"),
    ("domain", "invoice.pdf", "known top-level domain"),
    ("domain", "localhost", "at least two labels"),
    ("domain", "1.2.3.4", "looks like an IP address"),
    ("domain", "-bad.com", "label '-bad'"),
    ("domain", "bad-.com", "label 'bad-'"),
    ("domain", "a..com", "label ''"),
    ("domain", "a" * 64 + ".com", "label"),
    ("domain", "evil com", "label"),
    ("domain", ".".join(["abcdefghi"] * 26) + ".com", "longer than 253"),
    ("url", "evil.example/x", "must start with one of"),
    ("url", "javascript:alert(1)", "must start with one of"),
    ("url", "http://evil.example/a b", "whitespace"),
    ("url", "http://", "no host"),
    ("url", "http://localhost/", "not a fully qualified name"),
    ("url", "http://999.1.1.1/", "out of range"),
    ("url", "http://evil.ru:99999/", "cannot be parsed"),
    ("url", "http://[::1/", "cannot be parsed"),
    ("email", "nobody", "local-part@domain"),
    ("email", "@evil.ru", "local-part@domain"),
    ("email", "a@b@evil.ru", "local-part@domain"),
    ("email", "a..b@evil.ru", "not a valid local part"),
    ("email", "x@invoice.pdf", "known top-level domain"),
    ("email", "a" * 65 + "@evil.ru", "not a valid local part"),
    ("md5", MD5[:-1], "must be 32 hexadecimal characters"),
    ("md5", SHA1, "must be 32 hexadecimal characters"),
    ("sha1", MD5, "must be 40 hexadecimal characters"),
    ("sha256", SHA256 + "0", "must be 64 hexadecimal characters"),
    ("sha256", "z" + SHA256[1:], "non-hexadecimal character 'z'"),
    ("sha256", "abc", "SHA-256 must be 64"),
    ("cve", "CVE-24-1", "not a CVE identifier"),
    ("cve", "CVE-2024-340", "not a CVE identifier"),
    ("cve", "2024-3400", "not a CVE identifier"),
    ("cve", "CVE-1998-0001", "outside 1999-2099"),
    ("cve", "CVE-2024-01234", "leading 0"),
    ("fqdn", "evil.example", "unknown observable type 'fqdn'"),
    ("IPV4", "192.0.2.1", "unknown observable type"),
]


@pytest.mark.parametrize(("kind", "value", "expected"), CANONICAL, ids=case_id)
def test_canonicalise(kind: str, value: str, expected: str) -> None:
    assert canonicalise(kind, value) == expected
    assert canonicalise(kind, expected) == expected


@pytest.mark.parametrize(("kind", "value", "message"), INVALID, ids=case_id)
def test_canonicalise_rejects(kind: str, value: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        canonicalise(kind, value)
    assert isinstance(info.value, InvalidObservable)
    assert message in str(info.value)
