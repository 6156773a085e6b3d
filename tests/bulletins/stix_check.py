"""A bulletin's STIX goes through the OASIS validator and ``stix2.parse``, like every STIX
object Vigie shares (``tests/incidents/sharing/stix_check.py``, whose checks these are), with one
"should" left out: 302, a URL in an external reference without a hash of its content — a
bulletin's references are web pages Vigie does not fetch, so no hash can be given. Any error, or
any other warning, fails."""

from __future__ import annotations

from typing import Any

from stix2validator import ValidationOptions

from tests.incidents.sharing import stix_check

OPTIONS = ValidationOptions(strict=False, disabled=["302"])


def assert_valid_bundle(text: str) -> dict[str, Any]:
    return stix_check.assert_valid_bundle(text, OPTIONS)


def assert_valid_objects(objects: list[dict[str, Any]]) -> None:
    stix_check.assert_valid_objects(objects, OPTIONS)
