"""The generated bundle of ``bench/ingest.py``: ``count`` STIX 2.1 indicators of mixed types
(addresses, networks, domains, URLs, hashes, e-mail senders; about 1 % compound patterns that
need the grammar), malware and ATT&CK techniques they indicate, and relationships. Valid for
``stix2.parse(allow_custom=False)``; seeded, so every run reads the same document."""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson

CREATED = "2026-11-01T10:00:00.000Z"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
KINDS = (
    ("ipv4", 25),
    ("cidr", 5),
    ("domain", 20),
    ("url", 15),
    ("sha256", 15),
    ("md5", 5),
    ("sha1", 4),
    ("email", 5),
    ("ipv6", 5),
    ("complex", 1),
)


def generate(count: int, seed: int = 18) -> bytes:
    """The bundle, serialised (``orjson``)."""
    rng = random.Random(seed)
    contexts = [_malware(rng, n) for n in range(200)] + [_technique(rng, n) for n in range(100)]
    weights = [weight for _, weight in KINDS]
    names = [name for name, _ in KINDS]
    objects: list[dict[str, Any]] = [*contexts]
    for n in range(count):
        kind = rng.choices(names, weights)[0]
        indicator = _indicator(rng, n, _pattern(rng, kind, n))
        objects.append(indicator)
        if n % 10 == 0:
            target = contexts[rng.randrange(len(contexts))]["id"]
            objects.append(_relationship(rng, indicator["id"], target))
    return orjson.dumps({"type": "bundle", "id": _id(rng, "bundle"), "objects": objects})


def _id(rng: random.Random, kind: str) -> str:
    return f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def _pattern(rng: random.Random, kind: str, n: int) -> str:
    a, b, c = n % 250 + 1, n // 250 % 250 + 1, n // 62500 % 250 + 1
    domain = f"host{n}.evil{n % 97}.example"
    hexes = f"{rng.getrandbits(256):064x}"
    single = {
        "ipv4": f"[ipv4-addr:value = '{c}.{b}.{a}.{rng.randrange(1, 255)}']",
        "cidr": f"[ipv4-addr:value ISSUBSET '{c}.{b}.{a}.0/24']",
        "domain": f"[domain-name:value = '{domain}']",
        "url": f"[url:value = 'http://{domain}/path/{n}.php?id={a}']",
        "sha256": f"[file:hashes.'SHA-256' = '{hexes}']",
        "md5": f"[file:hashes.MD5 = '{hexes[:32]}']",
        "sha1": f"[file:hashes.'SHA-1' = '{hexes[:40]}']",
        "email": f"[email-message:from_ref.value = 'sender{n}@{domain}']",
        "ipv6": f"[ipv6-addr:value = '2001:db8:{b:x}:{a:x}::{c:x}']",
    }
    if kind != "complex":
        return single[kind]
    return (
        f"[file:hashes.'SHA-256' = '{hexes}' AND file:name = 'invoice{n}.exe']"
        f" FOLLOWEDBY [domain-name:value = '{domain}'] WITHIN 300 SECONDS"
    )


def _instant(n: int) -> str:
    """A different second for every indicator (one version a second over the month)."""
    day, rest = divmod(n, 86400)
    hours, minutes, seconds = rest // 3600, rest // 60 % 60, rest % 60
    return f"2026-10-{day % 28 + 1:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}.000Z"


def _indicator(rng: random.Random, n: int, pattern: str) -> dict[str, Any]:
    when = _instant(n)
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": _id(rng, "indicator"),
        "created": when,
        "modified": when,
        "name": f"Indicator {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": when,
        "confidence": rng.randrange(30, 100),
        "labels": ["bench"],
        "kill_chain_phases": [
            {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
        ],
        "object_marking_refs": [GREEN],
    }


def _malware(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": _id(rng, "malware"),
        "created": CREATED,
        "modified": CREATED,
        "name": f"Family {n}",
        "is_family": True,
        "malware_types": ["trojan"],
    }


def _technique(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": _id(rng, "attack-pattern"),
        "created": CREATED,
        "modified": CREATED,
        "name": f"Technique {n}",
        "external_references": [{"source_name": "mitre-attack", "external_id": f"T{1000 + n}"}],
    }


def _relationship(rng: random.Random, source: str, target: str) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": _id(rng, "relationship"),
        "created": CREATED,
        "modified": CREATED,
        "relationship_type": "indicates",
        "source_ref": source,
        "target_ref": target,
    }
