"""The pure STIX builders: SCO ids as ``stix2`` computes them, pattern literals escaped, stable
version-4 ids, fixed TLP marking definitions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import stix2
from stix2patterns.validator import run_validator

from core.markings import Tlp
from incidents.sharing import stix_objects as so
from incidents.sharing.shareable import Audience, sectors
from tests.incidents.sharing.stix_check import assert_valid_objects

NOW = dt.datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
VALUES = [
    ("ipv4", "198.51.100.7"),
    ("ipv6", "2001:db8::1"),
    ("domain", "xn--vil-9la.example"),
    ("url", "http://evil.example/it's?a=1"),
    ("email", "x@evil.example"),
    ("md5", "c" * 32),
    ("sha1", "b" * 40),
    ("sha256", "a" * 64),
]


@pytest.mark.parametrize(("kind", "value"), VALUES)
def test_sco_ids_are_stix2s_and_patterns_validate(kind: str, value: str) -> None:
    sco = so.sco(kind, value)
    assert stix2.parse(sco).id == sco["id"]  # the library derives the same UUIDv5
    assert uuid.UUID(sco["id"].split("--")[1]).version == 5
    assert run_validator(so.pattern(kind, value)) == []


def test_literals_escape_quotes_and_backslashes() -> None:
    assert so.literal("a'b\\c") == "'a\\'b\\\\c'"
    assert run_validator(so.pattern("url", "http://e.example/a'b\\c")) == []
    assert so.pattern("sha256", "a" * 64) == f"[file:hashes.'SHA-256' = '{'a' * 64}']"
    assert so.pattern("md5", "c" * 32) == f"[file:hashes.MD5 = '{'c' * 32}']"


def test_stable_ids_are_version_4_and_depend_on_namespace_and_key() -> None:
    ns = so.namespace("MACERT")
    one = so.stable_id("incident", ns, "MACERT-2026-000001")
    assert one == so.stable_id("incident", so.namespace("macert "), "MACERT-2026-000001")
    assert uuid.UUID(one.split("--")[1]).version == 4
    assert one != so.stable_id("incident", ns, "MACERT-2026-000002")
    assert one != so.stable_id("incident", so.namespace("CERTFR"), "MACERT-2026-000001")


def test_row_ids_read_back_only_for_their_kind_and_installation() -> None:
    ns = so.namespace("MACERT")
    for row in (1, 2, 123_456_789, 2**47):
        ident = so.row_id("indicator", ns, "observable", row)
        assert uuid.UUID(ident.split("--")[1]).version == 4
        assert so.row_of(ident, "indicator", ns, "observable") == row
        assert so.row_of(ident, "sighting", ns, "match") is None
        assert so.row_of(ident, "indicator", so.namespace("CERTFR"), "observable") is None
    assert so.row_of("indicator--not-a-uuid", "indicator", ns, "observable") is None
    assert so.row_of(so.stable_id("indicator", ns, "x"), "indicator", ns, "observable") is None


def test_objects_validate_and_carry_their_marking() -> None:
    ns = so.namespace("MACERT")
    producer = so.producer(ns, "MACERT")
    common = so.Common(ns, producer["id"], "MACERT", Tlp.AMBER_STRICT)
    objs = [producer, so.sector_identity(ns, sectors("ministry", "Health"))]
    for number, (kind, value) in enumerate(VALUES):
        objs.append(so.indicator(common, number, kind, value, NOW))
    objs.append(so.vulnerability(common, 99, "CVE-2024-3094", NOW))
    objs += so.markings_for(objs)
    assert_valid_objects(objs)
    assert objs[-1] == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER+STRICT",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "amber+strict",
            }
        },
    }
    assert objs[1]["sectors"] == ["government-national", "healthcare"]
    assert objs[2]["valid_from"] == "2026-03-01T10:00:00.123Z"


def test_sectors_never_carry_free_text() -> None:
    assert sectors("ministry", "Ministère secret") == ["government-national"]
    assert sectors("establishment", "energy") == ["government-public-services", "energy"]


def test_audience_ceilings() -> None:
    staff, ministry = Audience(True, None), Audience(False, 7)
    assert staff.may_receive(Tlp.AMBER_STRICT, 8) and not staff.may_receive(Tlp.RED, 8)
    assert ministry.may_receive(Tlp.AMBER_STRICT, 7)  # its own report
    assert not ministry.may_receive(Tlp.AMBER, 8)  # another ministry's
    assert ministry.may_receive(Tlp.GREEN, 8)
    assert ministry.may_receive(Tlp.AMBER, None)  # the CERT's intelligence, to its clients
    assert not ministry.may_receive(Tlp.AMBER_STRICT, None)
    assert not ministry.may_receive(Tlp.RED, 7)
