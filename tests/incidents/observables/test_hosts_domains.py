"""Observable extraction: domains (pure: no DB, no app). Refanging and IP addresses are in
``test_observables_hosts.py``.

Cases are ``(text, expected)`` where ``expected`` is the exact, ordered list of
``"type value"`` strings that ``extract`` returns.
"""

from __future__ import annotations

import pytest

from tests.incidents.observables.cases import case_id, found

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
