"""A bulletin's STIX goes through the OASIS validator and ``stix2.parse``, like every STIX
object Vigie shares (``tests/incidents/sharing/stix_check.py``), with one "should" left out:
302, a URL in an external reference without a hash of its content — a bulletin's references
are web pages Vigie does not fetch, so no hash can be given. Any error, or any other warning,
fails."""

from __future__ import annotations

import json
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_instance, validate_string

OPTIONS = ValidationOptions(strict=False, disabled=["302"])


def _problems(result: Any) -> list[str]:
    results = result if isinstance(result, list) else [result]
    found: list[str] = []
    for one in results:
        found += [f"error {one.object_id}: {e}" for e in one.errors]
        found += [f"warning {one.object_id}: {w}" for w in one.warnings]
    return found


def assert_valid_bundle(text: str) -> dict[str, Any]:
    result = validate_string(text, OPTIONS)
    assert result.is_valid and not _problems(result), _problems(result)
    bundle: dict[str, Any] = json.loads(text)
    parsed = stix2.parse(text, allow_custom=False)
    assert [o.id for o in parsed.objects] == [o["id"] for o in bundle["objects"]]
    return bundle


def assert_valid_objects(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        result = validate_instance(obj, OPTIONS)
        assert result.is_valid and not _problems(result), _problems(result)
        assert stix2.parse(obj, allow_custom=False).id == obj["id"]
