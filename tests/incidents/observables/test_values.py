"""Observable extraction: URLs, e-mail addresses, hashes, CVEs and traps (pure).

Cases are ``(text, expected)`` where ``expected`` is the exact, ordered list of
``"type value"`` strings that ``extract`` returns.
"""

from __future__ import annotations

import pytest

from tests.incidents.observables.cases import MD5, SHA1, SHA256, case_id, found

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
