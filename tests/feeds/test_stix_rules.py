"""STIX 2.1 documents → records (:mod:`feeds.rules.stix`), without a database: what is kept,
every reason an object is rejected (the valid ones kept), TLP 1.0 and 2.0 markings, context
resolved from relationships, documents that are not bundles, and content written by ``stix2``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
import stix2

from core.markings import Tlp
from feeds.rules.records import IndexValue, NotThatKind, Related
from feeds.rules.stix import parse_bundle, parse_objects
from tests.feeds.stixdata import (
    TLP1_AMBER,
    TLP1_WHITE,
    TLP2_GREEN,
    TLP2_RED,
    bundle,
    indicator,
    relationship,
    sdo,
    sid,
)

IP = "[ipv4-addr:value = '198.51.100.7']"


def test_an_indicator_keeps_its_context() -> None:
    obj = indicator(
        "[domain-name:value = 'Evil.Example'] OR [ipv4-addr:value ISSUBSET '203.0.113.0/24']",
        name="C2",
        description="seen in phishing",
        labels=["phishing"],
        indicator_types=["malicious-activity"],
        kill_chain_phases=[
            {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
        ],
        confidence=85,
        modified="2026-11-02T08:30:00.123Z",
        valid_until="2026-12-31T00:00:00Z",
        revoked=False,
        object_marking_refs=[TLP2_GREEN],
    )
    parsed = parse_bundle(bundle(obj))
    assert parsed.kind == "stix" and not parsed.rejections
    (record,) = parsed.indicators
    assert record.source_ref == record.stix_id == obj["id"]
    assert record.values == (
        IndexValue("domain", "evil.example"),
        IndexValue("ipv4", "203.0.113.0/24"),
    )
    assert (record.name, record.description, record.confidence) == ("C2", "seen in phishing", 85)
    assert record.labels == ("phishing",) and record.indicator_types == ("malicious-activity",)
    assert record.kill_chain_phases == ("mitre-attack:command-and-control",)
    assert record.modified == dt.datetime(2026, 11, 2, 8, 30, 0, 123000, tzinfo=dt.UTC)
    assert record.valid_until == dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
    assert record.tlp is Tlp.GREEN and record.pattern == obj["pattern"]


@pytest.mark.parametrize(
    ("refs", "tlp"),
    [
        ([TLP1_WHITE], Tlp.CLEAR),  # TLP 1.0 WHITE is CLEAR
        ([TLP1_AMBER], Tlp.AMBER),
        ([TLP2_GREEN, TLP2_RED], Tlp.RED),  # the strictest
        ([TLP2_GREEN, sid("marking-definition", 9)], Tlp.GREEN),  # others ignored
        ([sid("marking-definition", 9)], None),  # the feed's default
        (None, None),
    ],
)
def test_tlp_comes_from_the_marking_refs(refs: list[str] | None, tlp: Tlp | None) -> None:
    (record,) = parse_bundle(bundle(indicator(IP, object_marking_refs=refs))).indicators
    assert record.tlp is tlp


def _reason(obj: Any) -> str:
    parsed = parse_objects([obj, indicator(IP, 99)])
    assert [r.source_ref for r in parsed.indicators] == [sid("indicator", 99)]  # the valid kept
    (rejection,) = parsed.rejections
    return rejection.reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": "indicator--nope"}, "id 'indicator--nope' is not indicator--<uuid>"),
        ({"id": sid("malware")}, "is not indicator--<uuid>"),
        ({"id": None}, "no id"),
        ({"spec_version": "2.0"}, "spec_version '2.0': only STIX 2.1"),
        ({"spec_version": None}, "spec_version None"),
        ({"created": "2026-11-01"}, "created '2026-11-01' is not an RFC 3339 timestamp"),
        (
            {"modified": "2026-02-30T00:00:00Z"},
            "modified '2026-02-30T00:00:00Z' is not a valid date",
        ),
        ({"modified": "2026-10-01T00:00:00Z"}, "modified is earlier than created"),
        ({"created": None}, "no created"),
        ({"confidence": 1000}, "confidence 1000 is not an integer from 0 to 100"),
        ({"confidence": -1}, "confidence -1 is not"),
        ({"confidence": True}, "confidence True is not"),
        ({"confidence": "high"}, "confidence high is not"),
        ({"revoked": "yes"}, "revoked must be true or false"),
        ({"pattern": None}, "no pattern"),
        ({"pattern": 42}, "pattern must be a string"),
        ({"pattern_type": None}, "no pattern_type"),
        ({"pattern_type": "x" * 33}, "pattern_type is longer than 32 characters"),
        ({"valid_from": None}, "no valid_from"),
        ({"valid_from": "yesterday"}, "valid_from 'yesterday' is not an RFC 3339"),
        ({"valid_until": "2026-11-01T10:00:00Z"}, "valid_until must be later than valid_from"),
        ({"labels": "phishing"}, "labels must be a list of strings"),
        ({"name": "evil\x00"}, "name contains a NUL character"),
        ({"labels": ["a\x00"]}, "labels contains a NUL character"),
        ({"kill_chain_phases": [{"phase_name": "x"}]}, "kill_chain_phases must be a list"),
        ({"object_marking_refs": TLP2_RED}, "object_marking_refs must be a list"),
        ({"pattern": "[ipv4-addr:value = '1.2.3.4'"}, "invalid STIX pattern: 1:28: mismatched"),
        ({"pattern": "[file:hashes.SHA-256 = 'x']"}, "invalid STIX pattern"),
        (
            {"pattern": "[ipv4-addr:value = '999.1.1.1']"},
            "invalid ipv4 value '999.1.1.1' in the pattern",
        ),
        (
            {"pattern": "[ipv4-addr:value = '0.0.0.0/4']"},
            "invalid ipv4 value '0.0.0.0/4' in the pattern: network 0.0.0.0/4 is broader than /8",
        ),
        ({"pattern": "[file:hashes.MD5 = 'zz']"}, "invalid md5 value 'zz' in the pattern"),
        ({"pattern": "[domain-name:value = 'evil\x00.example']"}, "pattern contains a NUL"),
        ({"pattern": "[domain-name:value = 'evil..example']"}, "invalid domain value"),
    ],
)
def test_every_rejection_names_the_object_and_the_reason(
    change: dict[str, Any], reason: str
) -> None:
    obj = indicator(IP)
    obj.update(change)
    assert reason in _reason({k: v for k, v in obj.items() if v is not None})


def test_objects_without_a_type_are_rejected_by_position() -> None:
    parsed = parse_objects([{"id": sid("indicator")}, "text", indicator(IP)])  # type: ignore[list-item]
    assert [(r.ref, r.reason) for r in parsed.rejections] == [
        (sid("indicator"), "no type"),
        ("object 2", "no type"),
    ]
    assert len(parsed.indicators) == 1


def test_patterns_without_values_are_kept_as_context() -> None:
    parsed = parse_objects(
        [
            indicator("[file:name = 'invoice.exe']", 1),
            indicator("rule x { condition: true }", 2, pattern_type="yara"),
        ]
    )
    assert [r.values for r in parsed.indicators] == [(), ()] and not parsed.rejections
    assert parsed.indicators[1].pattern_type == "yara"


def test_relationships_give_indicators_their_context() -> None:
    ind = indicator(IP, 1)
    malware = sdo("malware", 1, "Emotet", is_family=True, malware_types=["trojan"])
    technique = sdo(
        "attack-pattern",
        1,
        "Phishing",
        external_references=[
            {"source_name": "capec", "external_id": "CAPEC-98"},
            {"source_name": "mitre-attack", "external_id": "T1566"},
        ],
    )
    cve = sdo(
        "vulnerability",
        1,
        "Log4Shell",
        external_references=[{"source_name": "cve", "external_id": "cve-2021-44228"}],
    )
    actor = sdo("intrusion-set", 1, "APT-X", aliases=["X"])
    parsed = parse_objects(
        [
            ind,
            malware,
            technique,
            cve,
            actor,
            relationship(ind["id"], "indicates", malware["id"], 1),
            relationship(ind["id"], "indicates", technique["id"], 2),
            relationship(ind["id"], "indicates", cve["id"], 3),
            relationship(ind["id"], "indicates", sid("campaign", 5), 4),  # not in the document
            relationship(malware["id"], "uses", technique["id"], 5),
            relationship(ind["id"], "related-to", actor["id"], 6),
        ]
    )
    assert not parsed.rejections
    assert parsed.indicators[0].related == (
        Related("malware", "Emotet", None, malware["id"]),
        Related("attack-pattern", "Phishing", "T1566", technique["id"]),
        Related("vulnerability", "Log4Shell", "CVE-2021-44228", cve["id"]),
    )
    assert len(parsed.relations) == 6
    assert {(o.type, o.external_id) for o in parsed.objects} == {
        ("malware", None),
        ("attack-pattern", "T1566"),
        ("vulnerability", "CVE-2021-44228"),
        ("intrusion-set", None),
    }
    emotet = next(o for o in parsed.objects if o.type == "malware")
    assert emotet.data == {"is_family": True, "malware_types": ["trojan"]}
    assert next(o for o in parsed.objects if o.type == "intrusion-set").aliases == ("X",)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"source_ref": "indicator--" + "a" * 200}, "source_ref 'indicator--aaa"),
        ({"target_ref": "evil"}, "target_ref 'evil' is not a STIX id"),
        ({"target_ref": None}, "no target_ref"),
        ({"relationship_type": "r" * 65}, "relationship_type is longer than 64 characters"),
        ({"relationship_type": None}, "no relationship_type"),
    ],
)
def test_invalid_relationships_are_rejected(change: dict[str, Any], reason: str) -> None:
    obj = relationship(sid("indicator"), "indicates", sid("malware"))
    obj.update(change)
    parsed = parse_objects([{k: v for k, v in obj.items() if v is not None}])
    (rejection,) = parsed.rejections
    assert reason in rejection.reason and not parsed.relations


def test_other_types_are_skipped_not_rejected() -> None:
    objects = [
        {"type": "ipv4-addr", "spec_version": "2.1", "id": sid("ipv4-addr"), "value": "1.2.3.4"},
        {"type": "marking-definition", "id": TLP2_RED},
        {"type": "observed-data", "id": sid("observed-data")},
        {"type": "sighting", "id": sid("sighting")},
        {"type": "note", "id": sid("note")},
        {"type": "x-acme-thing", "id": sid("x-acme-thing")},
    ]
    parsed = parse_objects(objects)
    assert parsed.skipped == 6 and not parsed.rejections and not parsed.indicators


def test_an_invalid_context_object_is_rejected() -> None:
    parsed = parse_objects(
        [sdo("malware", 1, "ok", is_family=True), sdo("threat-actor", 1, None), sdo("tool", 1, 5)]  # type: ignore[arg-type]
    )
    assert [r.reason for r in parsed.rejections] == ["no name", "name must be a string"]
    assert [o.name for o in parsed.objects] == ["ok"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not JSON"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "an HTML or XML page"),
        (b"\xff\xfe\x00binary", "not JSON"),
        (b'{"Event": {"info": "x", "Attribute": []}}', "a MISP event"),
        (b'{"type": "bundle", "spec_version": "2.0", "objects": []}', "a STIX 2.0 bundle"),
        (b'{"type": "indicator"}', 'no "type": "bundle"'),
        (b"[1, 2]", "a JSON list"),
        (b'{"type": "bundle", "objects": {}}', '"objects" is not a list'),
    ],
)
def test_documents_that_are_not_bundles_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(NotThatKind, match="not a STIX bundle|STIX 2.0") as refused:
        parse_bundle(data)
    assert message in str(refused.value)


def test_content_written_by_the_stix2_library() -> None:
    """A bundle built with ``stix2`` (allow_custom False), TLP 1.0 marking constants included."""
    when = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
    malware = stix2.Malware(name="Emotet", is_family=True, created=when, modified=when)
    technique = stix2.AttackPattern(
        name="Phishing",
        external_references=[{"source_name": "mitre-attack", "external_id": "T1566"}],
        created=when,
        modified=when,
    )
    indicators = [
        stix2.Indicator(
            pattern=pattern,
            pattern_type="stix",
            valid_from=when,
            created=when,
            modified=when,
            object_marking_refs=[stix2.TLP_AMBER],
            kill_chain_phases=[stix2.KillChainPhase(kill_chain_name="lockheed", phase_name="c2")],
        )
        for pattern in (
            "[ipv4-addr:value = '198.51.100.7']",
            "[file:hashes.'SHA-256' = '" + "e" * 64 + "']",
            "[url:value = 'http://evil.example/it\\'s'] OR [domain-name:value = 'b.example']",
        )
    ]
    relations = [
        stix2.Relationship(indicators[0], "indicates", malware, created=when, modified=when)
    ]
    relations.append(
        stix2.Relationship(indicators[1], "indicates", technique, created=when, modified=when)
    )
    document = stix2.Bundle(
        objects=[*indicators, malware, technique, *relations, stix2.TLP_AMBER], allow_custom=False
    )
    parsed = parse_bundle(document.serialize().encode())
    assert not parsed.rejections and parsed.skipped == 1  # the marking definition
    assert [r.values for r in parsed.indicators] == [
        (IndexValue("ipv4", "198.51.100.7"),),
        (IndexValue("sha256", "e" * 64),),
        (IndexValue("url", "http://evil.example/it's"), IndexValue("domain", "b.example")),
    ]
    assert all(r.tlp is Tlp.AMBER for r in parsed.indicators)
    assert parsed.indicators[0].kill_chain_phases == ("lockheed:c2",)
    assert [r.related[0].name for r in parsed.indicators[:2]] == ["Emotet", "Phishing"]
    assert parsed.indicators[1].related[0].external_id == "T1566"
    assert orjson.loads(document.serialize())["objects"][0]["id"] == parsed.indicators[0].stix_id
