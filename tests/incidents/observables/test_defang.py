"""Defanging for sharing (:func:`feeds.rules.refang.defang`): the way back of refanging,
so that what an analyst pastes elsewhere links nothing and reads back as the same observable."""

from __future__ import annotations

import pytest

from feeds.rules.refang import defang, refang
from incidents.observables.extraction import Observable, ObservableType, extract

CASES = [
    ("ipv4", "1.2.3.4", "1.2.3[.]4"),
    ("ipv6", "2001:db8::1", "2001[:]db8[:][:]1"),
    ("domain", "evil.example", "evil[.]example"),
    ("domain", "a.b.evil.com", "a[.]b[.]evil[.]com"),
    ("email", "securite@interieur-gov.ma", "securite[@]interieur-gov[.]ma"),
    ("url", "https://evil.example/x", "hxxps://evil[.]example/x"),
    ("url", "http://webmail-interieur.com/login.php", "hxxp://webmail-interieur[.]com/login.php"),
    ("url", "ftp://1.2.3.4/f.txt", "fxp://1[.]2[.]3[.]4/f.txt"),
    ("url", "http://[2001:db8::1]:8080/a.b", "hxxp://[2001[:]db8[:][:]1]:8080/a.b"),
    ("url", "wss://u@a.b.com/x.y?q=1.2", "wss[://]u@a[.]b[.]com/x.y?q=1.2"),
    ("sha256", "a1" * 32, "a1" * 32),
    ("cve", "CVE-2024-3400", "CVE-2024-3400"),
]


@pytest.mark.parametrize(("kind", "value", "defanged"), CASES)
def test_defanged_reads_back_as_the_same_observable(kind: str, value: str, defanged: str) -> None:
    assert defang(kind, value) == defanged
    assert refang(defanged) == value
    assert Observable(ObservableType(kind), value) in extract(f"Indicateur : {defanged} .")
