"""MISP events written by PyMISP, read by :func:`feeds.rules.misp.parse_event`: attribute
types, ``to_ids``, ``deleted``, timestamps, decay, TLP tags, labels, galaxies, file objects,
rejections naming the attribute, and documents that are not events."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pymisp import MISPObject

from core.markings import Tlp
from feeds.rules.misp import LIFETIMES, parse_event
from feeds.rules.records import IndexValue, NotThatKind, Related
from tests.feeds.misp_kit import NOW, event, feed_document

DAY = dt.timedelta(days=1)


def test_attribute_types_become_observable_values() -> None:
    misp = event("Mixed wave", at=NOW)
    cases = {
        ("ip-dst", "198.51.100.7"): (("ipv4", "198.51.100.7"),),
        ("ip-src", "2001:DB8::1"): (("ipv6", "2001:db8::1"),),
        ("ip-dst", "203.0.113.0/24"): (("ipv4", "203.0.113.0/24"),),
        ("domain", "Evil.Example"): (("domain", "evil.example"),),
        ("hostname", "c2.evil.example"): (("domain", "c2.evil.example"),),
        ("url", "hxxps://evil[.]example/login"): (("url", "https://evil.example/login"),),
        ("uri", "https://evil.example/x"): (("url", "https://evil.example/x"),),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E"): (("md5", "d41d8cd98f00b204e9800998ecf8427e"),),
        ("sha1", "a" * 40): (("sha1", "a" * 40),),
        ("sha256", "b" * 64): (("sha256", "b" * 64),),
        ("filename|sha256", "invoice.exe|" + "c" * 64): (("sha256", "c" * 64),),
        ("filename|md5", "a.doc|" + "d" * 32): (("md5", "d" * 32),),
        ("email-src", "Phisher@Evil.Example"): (("email", "phisher@evil.example"),),
        ("email-dst", "victim@victim.example"): (("email", "victim@victim.example"),),
        ("vulnerability", "cve-2024-3400"): (("cve", "CVE-2024-3400"),),
        ("ip-dst|port", "198.51.100.8|443"): (("ipv4", "198.51.100.8"),),
        ("ip-src|port", "2001:db8::2|8080"): (("ipv6", "2001:db8::2"),),
        ("domain|ip", "evil.example|198.51.100.9"): (
            ("domain", "evil.example"),
            ("ipv4", "198.51.100.9"),
        ),
    }
    uuids = {}
    for (kind, value), expected in cases.items():
        uuids[misp.add_attribute(kind, value, timestamp=NOW).uuid] = expected
    misp.add_attribute("text", "a note", timestamp=NOW)
    misp.add_attribute("uri", "/wp-admin/x.php", timestamp=NOW)  # a path, not a URL
    misp.add_attribute("AS", "AS64500", timestamp=NOW)

    parsed = parse_event(feed_document(misp))

    assert parsed.kind == "misp-event"
    assert parsed.rejections == []
    assert parsed.skipped == 3
    got = {r.source_ref: r.values for r in parsed.indicators}
    assert got == {
        ref: tuple(IndexValue(k, v) for k, v in expected) for ref, expected in uuids.items()
    }


def test_to_ids_deleted_timestamps_and_decay() -> None:
    misp = event("C2 servers", at=NOW)
    detected = misp.add_attribute("ip-dst", "198.51.100.7", to_ids=True, timestamp=NOW - DAY)
    context_only = misp.add_attribute("domain", "cdn.example", to_ids=False, timestamp=NOW)
    gone = misp.add_attribute("url", "http://evil.example/a", timestamp=NOW)
    gone.delete()
    seen = misp.add_attribute(
        "ip-dst",
        "198.51.100.10",
        timestamp=NOW,
        first_seen=NOW - 60 * DAY,
        last_seen=NOW - 40 * DAY,
    )
    hashed = misp.add_attribute("sha256", "e" * 64, timestamp=NOW - 900 * DAY)

    records = {r.source_ref: r for r in parse_event(feed_document(misp)).indicators}

    first = records[detected.uuid]
    assert (first.detect, first.revoked, first.modified) == (True, False, NOW - DAY)
    assert first.valid_until == NOW - DAY + LIFETIMES["ipv4"] == NOW + 29 * DAY
    assert first.name == "C2 servers"
    assert records[context_only.uuid].detect is False
    assert records[context_only.uuid].valid_until == NOW + 180 * DAY
    assert records[gone.uuid].revoked is True
    decayed = records[seen.uuid]
    assert (decayed.first_seen, decayed.last_seen) == (NOW - 60 * DAY, NOW - 40 * DAY)
    assert decayed.valid_until == NOW - 10 * DAY  # 30 days after last_seen: expired
    assert records[hashed.uuid].valid_until is None  # hashes never decay


def test_tlp_tags_labels_and_galaxy_tags() -> None:
    misp = event(
        "Phishing wave",
        at=NOW,
        tags=(
            "tlp:amber",
            "PAP:green",
            'rsit:fraud="phishing"',
            'misp-galaxy:mitre-attack-pattern="Phishing - T1566"',
            'misp-galaxy:threat-actor="Sofacy"',
            'misp-galaxy:country="france"',
        ),
    )
    plain = misp.add_attribute("domain", "evil.example", timestamp=NOW)
    red = misp.add_attribute("domain", "red.example", timestamp=NOW)
    red.add_tag("tlp:red")
    red.add_tag('misp-galaxy:mitre-malware="X-Agent - S0161"')
    white = misp.add_attribute("domain", "white.example", timestamp=NOW)
    white.add_tag("tlp:white")
    white.add_tag("campaign:summer")

    records = {r.source_ref: r for r in parse_event(feed_document(misp)).indicators}

    assert records[plain.uuid].tlp is Tlp.AMBER
    assert records[red.uuid].tlp is Tlp.RED  # the attribute's tag overrides the event's
    assert records[white.uuid].tlp is Tlp.CLEAR  # TLP 1.0 WHITE is TLP 2.0 CLEAR
    assert records[plain.uuid].labels == (
        "PAP:GREEN",
        'rsit:fraud="phishing"',
        'misp-galaxy:country="france"',
    )
    assert records[white.uuid].labels[-1] == "campaign:summer"
    assert records[plain.uuid].related == (
        Related("attack-pattern", "Phishing", "T1566"),
        Related("threat-actor", "Sofacy"),
    )
    assert records[red.uuid].related[-1] == Related("malware", "X-Agent", "S0161")


def test_galaxy_blocks_of_an_event_json_and_the_bare_event() -> None:
    misp = event("APT", at=NOW)
    galaxy = misp.add_galaxy(type="mitre-intrusion-set", name="Intrusion Set")
    galaxy.add_galaxy_cluster(
        type="mitre-intrusion-set",
        value="APT28 - G0007",
        tag_name='misp-galaxy:mitre-intrusion-set="APT28 - G0007"',
    )
    misp.add_attribute("ip-dst", "198.51.100.7", timestamp=NOW)
    bare = json.loads(misp.to_json())  # PyMISP's event JSON, without the "Event" wrapper

    parsed = parse_event(bare)

    assert [r.related for r in parsed.indicators] == [(Related("intrusion-set", "APT28", "G0007"),)]
    assert parse_event({"Event": bare}).indicators == parsed.indicators


def test_file_objects_give_their_hashes() -> None:
    misp = event("Dropper", at=NOW, tags=("tlp:green",))
    file = MISPObject("file")
    sha256 = file.add_attribute("sha256", value="F" * 64, timestamp=NOW)
    md5 = file.add_attribute("md5", value="0" * 32, to_ids=False, timestamp=NOW)
    file.add_attribute("filename", value="dropper.exe", timestamp=NOW)
    file.add_attribute("size-in-bytes", value="1024", timestamp=NOW)
    misp.add_object(file)
    deleted = MISPObject("domain-ip")
    domain = deleted.add_attribute("domain", value="gone.example", timestamp=NOW)
    deleted.deleted = True
    misp.add_object(deleted)

    parsed = parse_event(feed_document(misp))

    records = {r.source_ref: r for r in parsed.indicators}
    assert records[sha256.uuid].values == (IndexValue("sha256", "f" * 64),)
    assert records[sha256.uuid].tlp is Tlp.GREEN
    assert records[md5.uuid].detect is False
    assert records[domain.uuid].revoked is True  # the object was deleted
    assert parsed.skipped == 2  # filename, size-in-bytes


def test_invalid_attributes_are_rejected_by_uuid_and_the_rest_kept() -> None:
    misp = event("Noisy", at=NOW)
    good = misp.add_attribute("ip-dst", "198.51.100.7", timestamp=NOW)
    bad_ip = misp.add_attribute("ip-dst", "198.51.100.300", timestamp=NOW)
    broad = misp.add_attribute("ip-dst", "16.0.0.0/4", timestamp=NOW)
    no_port = misp.add_attribute("ip-dst|port", "198.51.100.8", timestamp=NOW)
    bad_hash = misp.add_attribute("sha256", "xyz", timestamp=NOW)
    document = misp.to_feed()
    document["Event"]["Attribute"].append({"type": "domain", "value": "x.example"})
    document["Event"]["Attribute"].append(
        {"uuid": "not-a-uuid", "type": "domain", "value": "x.example"}
    )

    parsed = parse_event(json.dumps(document).encode())

    assert [r.source_ref for r in parsed.indicators] == [good.uuid]
    reasons = {r.ref: r.reason for r in parsed.rejections}
    assert "out of range" in reasons[f"attribute {bad_ip.uuid}"]
    assert "broader than /8" in reasons[f"attribute {broad.uuid}"]
    assert "has no '|'" in reasons[f"attribute {no_port.uuid}"]
    assert reasons[f"attribute {bad_hash.uuid}"].startswith("sha256 'xyz'")
    assert reasons["attribute #6"] == "no uuid"
    assert "is not a UUID" in reasons["attribute #7"]


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not JSON"),
        (b'\xef\xbb\xbf{"Event": 1}', "its Event is not an object"),
        (b"<!doctype html><html><body>Login</body></html>", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"Event": "x"}', "its Event is not an object"),
        (b'{"type": "bundle", "objects": []}', "a STIX bundle"),
        (b'{"5d1a1ab4-1111-4111-8111-111111111111": {"timestamp": 1}}', "feed manifest"),
        (b'{"Event": {"info": "x", "Attribute": {"a": 1}}}', "must be lists"),
        (b'{"response": [{"Event": {"info": "x"}}, 3]}', "expected a JSON object"),
    ],
)
def test_documents_that_are_not_events_are_refused(document: bytes, says: str) -> None:
    with pytest.raises(NotThatKind, match=says):
        parse_event(document)


def test_a_rest_search_export_gives_every_event() -> None:
    first = event("First", at=NOW)
    a = first.add_attribute("ip-dst", "198.51.100.7", timestamp=NOW)
    second = event("Second", at=NOW, tags=("tlp:red",))
    b = second.add_attribute("domain", "evil.example", timestamp=NOW)
    document = {"response": [json.loads(feed_document(first)), json.loads(feed_document(second))]}

    parsed = parse_event(json.dumps(document).encode())

    assert [(r.source_ref, r.name, r.tlp) for r in parsed.indicators] == [
        (a.uuid, "First", None),
        (b.uuid, "Second", Tlp.RED),
    ]
