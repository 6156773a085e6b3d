"""Observable extraction: refanging, IPv4 and IPv6 (pure: no DB, no app). Domains are in
``test_observables_hosts_domains.py``.

Cases are ``(text, expected)`` where ``expected`` is the exact, ordered list of
``"type value"`` strings that ``extract`` returns.
"""

from __future__ import annotations

import pytest

from incidents.observables.extraction import (
    extract,
    refang,
)
from tests.incidents.observables.cases import case_id, found

# --- refang -------------------------------------------------------------------------------

REFANG_CASES = [
    ("hxxp://evil.example", "http://evil.example"),
    ("hxxps://evil.example", "https://evil.example"),
    ("hXXps://evil.example", "https://evil.example"),
    ("HXXPS://evil.example", "https://evil.example"),
    ("h**p://evil.example", "http://evil.example"),
    ("h**ps://evil.example", "https://evil.example"),
    ("hxtp://evil.example", "http://evil.example"),
    ("htxps://evil.example", "https://evil.example"),
    ("h[tt]p://evil.example", "http://evil.example"),
    ("hxxps[:]//evil.example", "https://evil.example"),
    ("hxxp[://]evil.example", "http://evil.example"),
    ("hxxp(:)//evil.example", "http://evil.example"),
    ("https:[//]evil.example", "https://evil.example"),
    ("fxp://files.example", "ftp://files.example"),
    ("evil[.]example", "evil.example"),
    ("evil(.)example", "evil.example"),
    ("evil{.}example", "evil.example"),
    ("evil[dot]example", "evil.example"),
    ("evil(dot)example", "evil.example"),
    ("evil{DOT}example", "evil.example"),
    ("evil [.] example", "evil.example"),
    ("evil [ . ] example", "evil.example"),
    ("evil (dot) example", "evil.example"),
    ("evil[.)example", "evil.example"),
    ("1[.]2[.]3[.]4", "1.2.3.4"),
    ("185.220.101[.]4", "185.220.101.4"),
    ("user[@]evil.example", "user@evil.example"),
    ("user[at]evil.example", "user@evil.example"),
    ("user(at)evil.example", "user@evil.example"),
    ("user [at] evil [dot] example", "user@evil.example"),
    ("user{AT}evil.example", "user@evil.example"),
    ("evil\\.example", "evil.example"),
    ("http:\\/\\/evil.example\\/a", "http://evil.example/a"),
    ("evil\u200b.example", "evil.example"),
    ("ev\u00adil.exa\u200dmple", "evil.example"),
    ("\ufeffevil.example", "evil.example"),
    ("evil\uff0eexample", "evil.example"),
    ("evil\u3002example", "evil.example"),
    ("user\uff20evil.example", "user@evil.example"),
    ("http\uff1a\uff0f\uff0fevil.example", "http://evil.example"),
    ("2001:db8[:]1", "2001:db8:1"),
]

PROSE_CASES = [
    "Nous nous retrouvons at the office.",
    "Le dot-com crash et la bulle.",
    "Write to us at cert dot ma.",
    "Meeting at 10:30, dot points below.",
    "Une liste [...] et (...) des éléments.",
    "hxxp sans deux-points reste tel quel",
    "Le rapport (voir annexe) est joint.",
    "L’équipe « Vigie » a répondu à 09h30.",
    "http://déjà.propre.example/ reste inchangé",
    "Texte arabe : تم رصد اتصال مشبوه",
]


@pytest.mark.parametrize(("defanged", "expected"), REFANG_CASES, ids=case_id)
def test_refang(defanged: str, expected: str) -> None:
    assert refang(defanged) == expected


@pytest.mark.parametrize("text", PROSE_CASES, ids=case_id)
def test_refang_leaves_prose_alone(text: str) -> None:
    assert refang(text) == text


# --- IPv4 ---------------------------------------------------------------------------------

IPV4_POSITIVE = [
    ("connexions depuis 185.220.101.4", ["ipv4 185.220.101.4"]),
    ("IP: 10.0.0.1", ["ipv4 10.0.0.1"]),
    ("IP : 10.0.0.1.", ["ipv4 10.0.0.1"]),
    ("(192.168.1.20)", ["ipv4 192.168.1.20"]),
    ("« 203.0.113.9 »", ["ipv4 203.0.113.9"]),
    ("185.220.101[.]4", ["ipv4 185.220.101.4"]),
    ("185[.]220[.]101[.]4", ["ipv4 185.220.101.4"]),
    ("185.220.101(.)4 et 185.220.101[dot]5", ["ipv4 185.220.101.4", "ipv4 185.220.101.5"]),
    ("198.51.100.7:4444", ["ipv4 198.51.100.7"]),
    ("src=198.51.100.7;dst=10.1.2.3", ["ipv4 198.51.100.7", "ipv4 10.1.2.3"]),
    ("203.0.113.10,120034", ["ipv4 203.0.113.10"]),
    ("plage 203.0.113.1-203.0.113.9", ["ipv4 203.0.113.1", "ipv4 203.0.113.9"]),
    ("0.0.0.0 et 255.255.255.255", ["ipv4 0.0.0.0"]),  # all-ones is a mask / broadcast
    ("127.0.0.1", ["ipv4 127.0.0.1"]),
    ("adresse:8.8.8.8", ["ipv4 8.8.8.8"]),
    ("l'IP 45.137.21.9 a scanné", ["ipv4 45.137.21.9"]),
    ("l’IP 45.137.21.9 a scanné", ["ipv4 45.137.21.9"]),
    ("depuis\u00a045.137.21.9\u202f!", ["ipv4 45.137.21.9"]),
    ("1.1.1.1 puis 1.1.1.1 encore", ["ipv4 1.1.1.1"]),
    ("OpenSSL 1.1.1.1", ["ipv4 1.1.1.1"]),  # decided: a product name is not a version word
    ("version 1.2.3[.]4", ["ipv4 1.2.3.4"]),  # defanging is evidence
    ("تم رصد اتصال من 185.220.101.4 اليوم", ["ipv4 185.220.101.4"]),
    ("IPs:\n- 192.0.2.1\n- 192.0.2.2\n", ["ipv4 192.0.2.1", "ipv4 192.0.2.2"]),
    ("\t192.0.2.3\t", ["ipv4 192.0.2.3"]),
    ("192.0.2.4...", ["ipv4 192.0.2.4"]),
    ("1.2.3.4-", ["ipv4 1.2.3.4"]),
    ("[192.0.2.5]", ["ipv4 192.0.2.5"]),
    ("'192.0.2.6'", ["ipv4 192.0.2.6"]),
    ("depuis 192.0.2.7.Le serveur", ["ipv4 192.0.2.7"]),
    ("depuis 192.0.2.8.État", ["ipv4 192.0.2.8"]),
]

IPV4_NEGATIVE = [
    "version 1.2.3.4",
    "Version: 1.2.3.4",
    "versions 2.4.1.0",
    "v1.2.3.4",
    "V 1.2.3.4",
    "ver. 1.2.3.4",
    "Windows 10.0.19041.1",
    "build 6.1.7601.1",
    "Build 10.0.0.1",
    "firmware 1.0.2.3",
    "release 4.2.0.1",
    "révision 1.0.0.4",
    "section 1.2.3.4",
    "§ 1.2.3.4",
    "§1.2.3.4",
    "article 1.2.3.4",
    "art. 1.2.3.4",
    "OID 1.3.6.1",
    "netmask 255.255.255.0",
    "masque 255.255.0.0",
    "255.255.255.0",
    "255.255.255.128",
    "1.200.150.200 MAD",
    "1.200.150.200 DH",
    "1.200.150.200 €",
    "10.0.0.0/24",
    "185.220.101.0/24,",
    "999.1.1.1",
    "256.256.256.256",
    "1.2.3.256",
    "01.02.03.04",
    "010.1.1.1",
    "1.2.3",
    "3.2.1",
    "1.2.3.4.5",
    "06.12.34.56.78",
    "1.234.567,89 MAD",
    "1.234.567.890",
    "ticket #4.2.1.7",
    "n° 4.2.1.7",
    "numéro 4.2.1.7",
    "12.03.2024",
    "a1.2.3.4",
    "1.2.3.4a",
    "1.2.3.4.in-addr",
    "x.1.2.3.4",
    "+212 5 37 00 00 00",
    "3.14159",
    "1,2,3,4",
    "١.٢.٣.٤",
]


@pytest.mark.parametrize(("text", "expected"), IPV4_POSITIVE, ids=case_id)
def test_ipv4_found(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", IPV4_NEGATIVE, ids=case_id)
def test_ipv4_not_found(text: str) -> None:
    assert [item for item in found(text) if item.startswith("ipv4")] == []


# --- IPv6 ---------------------------------------------------------------------------------

IPV6_POSITIVE = [
    ("2001:db8::1", ["ipv6 2001:db8::1"]),
    ("2001:DB8::1", ["ipv6 2001:db8::1"]),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", ["ipv6 2001:db8::1"]),
    ("2001:db8:85a3::8a2e:370:7334", ["ipv6 2001:db8:85a3::8a2e:370:7334"]),
    ("::1", ["ipv6 ::1"]),
    ("fe80::1%eth0", ["ipv6 fe80::1"]),
    ("[2001:db8::2]:443", ["ipv6 2001:db8::2"]),
    ("IPv6 2001:db8::3.", ["ipv6 2001:db8::3"]),
    ("(2001:db8::4)", ["ipv6 2001:db8::4"]),
    ("::ffff:192.0.2.1", ["ipv6 ::ffff:192.0.2.1"]),
    ("2001:db8::5, 2001:db8::6", ["ipv6 2001:db8::5", "ipv6 2001:db8::6"]),
    ("dead:beef:cafe:babe:0:0:0:1", ["ipv6 dead:beef:cafe:babe::1"]),
    ("adresse 2001:db8::7: bloquée", ["ipv6 2001:db8::7"]),
    ("2001:db8::8 et 2001:DB8:0::8", ["ipv6 2001:db8::8"]),
    ("2001:db8[:]:9", ["ipv6 2001:db8::9"]),
]

IPV6_NEGATIVE = [
    "à 10:30",
    "à 10:30:45",
    "10:30:45.123",
    "MAC 00:1a:2b:3c:4d:5e",
    "00:1A:2B:3C:4D:5E:6F:70",
    "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89",
    "std::string",
    "Foo::Bar::baz",
    "::",
    "ratio 3:2:1",
    "2001:db8::1g",
    "gggg::1",
    "1:2:3:4:5:6:7:8:9",
    "Note: voir: ci-dessous",
]


@pytest.mark.parametrize(("text", "expected"), IPV6_POSITIVE, ids=case_id)
def test_ipv6_found(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", IPV6_NEGATIVE, ids=case_id)
def test_ipv6_not_found(text: str) -> None:
    assert [item for item in found(text) if item.startswith("ipv6")] == []


def test_only_the_word_just_before_an_address_counts() -> None:
    text = "La version 1.2.3.4 contacte 185.220.101.4 ; versions 2.4.1.0 et 2.4.1.9."
    assert found(text) == ["ipv4 185.220.101.4", "ipv4 2.4.1.9"]  # decided: no chaining


def test_ipv4_inside_ipv6_is_not_a_separate_ipv4() -> None:
    assert found("::ffff:198.51.100.7") == ["ipv6 ::ffff:198.51.100.7"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version du client 1.2.3.4", []),
        ("la version du navigateur est 10.2.0.1", []),
        ("build n° 6.1.7601.1", []),
        ("depuis 185.220.101.4; version 3", [("ipv4", "185.220.101.4")]),
        ("connexion 10.0.0.5 avec la version du client", [("ipv4", "10.0.0.5")]),
        ("release notes. Attaque depuis 203.0.113.9", [("ipv4", "203.0.113.9")]),
    ],
)
def test_version_words_a_few_words_back_in_the_same_clause(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert [(o.type.value, o.value) for o in extract(text)] == expected
