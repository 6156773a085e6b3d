"""STIX 2.1 objects for the feeds tests, written as plain JSON (what a feed sends)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

CREATED = "2026-11-01T10:00:00.000Z"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP2_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"


def sid(kind: str, n: int = 0) -> str:
    """A stable id: ``<kind>--<uuid4-shaped>`` numbered ``n``."""
    return f"{kind}--{uuid.UUID(int=(n << 64) | 0x4000_8000_0000_0000, version=4)}"


def indicator(pattern: str, n: int = 0, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", n),
        "created": CREATED,
        "modified": CREATED,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": CREATED,
    }
    obj.update(extra)
    return {k: v for k, v in obj.items() if v is not None}


def sdo(kind: str, n: int, name: str, **extra: Any) -> dict[str, Any]:
    obj = {
        "type": kind,
        "spec_version": "2.1",
        "id": sid(kind, n),
        "created": CREATED,
        "modified": CREATED,
        "name": name,
    }
    obj.update(extra)
    return obj


def relationship(source: str, kind: str, target: str, n: int = 0) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": sid("relationship", n),
        "created": CREATED,
        "modified": CREATED,
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
    }


def bundle(*objects: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": "bundle", "id": sid("bundle"), "objects": list(objects)})
