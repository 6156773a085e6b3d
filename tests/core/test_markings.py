from __future__ import annotations

import pytest

from core.markings import Pap, Tlp, css_class, parse_pap, parse_tlp, strictest, tlp_table


def test_table_matches_the_oasis_marking_ids() -> None:
    table = tlp_table()
    assert set(table) == set(Tlp)
    assert table[Tlp.GREEN].stix_id == "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    assert table[Tlp.RED].colour == "#FF2B2B"
    for label, info in table.items():
        assert info.stix_object["name"] == label.value
        assert info.stix_object["id"] == info.stix_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TLP:AMBER", Tlp.AMBER),
        ("tlp:amber+strict", Tlp.AMBER_STRICT),
        ("red", Tlp.RED),
        ("TLP:WHITE", Tlp.CLEAR),
        (" TLP: GREEN ", Tlp.GREEN),
        ("clear", Tlp.CLEAR),
    ],
)
def test_parse_tlp(raw: str, expected: Tlp) -> None:
    assert parse_tlp(raw) is expected


@pytest.mark.parametrize("raw", ["", "TLP:BLUE", "AMBER-STRICT", "PAP:RED"])
def test_parse_tlp_rejects_with_the_valid_list(raw: str) -> None:
    with pytest.raises(ValueError, match="valid labels: TLP:CLEAR, TLP:GREEN, TLP:AMBER"):
        parse_tlp(raw)


def test_pap() -> None:
    assert parse_pap("pap:white") is Pap.CLEAR and parse_pap("RED") is Pap.RED
    with pytest.raises(ValueError, match="PAP:CLEAR"):
        parse_pap("PAP:AMBER+STRICT")


def test_order_and_helpers() -> None:
    assert [t.rank for t in Tlp] == [0, 1, 2, 3, 4]
    assert Tlp.AMBER_STRICT.at_least_as_strict_as(Tlp.AMBER)
    assert not Tlp.GREEN.at_least_as_strict_as(Tlp.AMBER)
    assert strictest(Tlp.GREEN, Tlp.RED, Tlp.AMBER) is Tlp.RED
    assert css_class(Tlp.AMBER_STRICT) == "tlp-amber-strict"
