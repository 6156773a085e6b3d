"""Every STIX object Vigie shares goes through the OASIS validator and ``stix2.parse``."""

from __future__ import annotations

import json
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_instance, validate_string

OPTIONS = ValidationOptions(strict=False)


def _problems(result: Any) -> list[str]:
    results = result if isinstance(result, list) else [result]
    found: list[str] = []
    for one in results:
        found += [f"error {one.object_id}: {e}" for e in one.errors]
        found += [f"warning {one.object_id}: {w}" for w in one.warnings]
    return found


def assert_valid_bundle(text: str, options: ValidationOptions = OPTIONS) -> dict[str, Any]:
    """``text`` is a valid STIX 2.1 bundle, without a single warning (of those ``options``
    check), that ``stix2`` parses back to the same objects; returns it decoded."""
    result = validate_string(text, options)
    assert result.is_valid and not _problems(result), _problems(result)
    bundle: dict[str, Any] = json.loads(text)
    parsed = stix2.parse(text, allow_custom=False)
    assert [o.id for o in parsed.objects] == [o["id"] for o in bundle["objects"]]
    return bundle


def assert_valid_objects(
    objects: list[dict[str, Any]], options: ValidationOptions = OPTIONS
) -> None:
    """Each object (a TAXII page's) valid without warnings, and parsed by ``stix2``."""
    for obj in objects:
        result = validate_instance(obj, options)
        assert result.is_valid and not _problems(result), _problems(result)
        assert stix2.parse(obj, allow_custom=False).id == obj["id"]


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]
