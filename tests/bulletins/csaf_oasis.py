"""The official OASIS CSAF 2.0 JSON schema (2020-12) and the FIRST CVSS schemas it references,
copied into tests/data/csaf (OASIS licence beside them; the product ships its own copy in
bulletins/data/csaf): the CVSS schemas are registered under the URLs the CSAF schema names so that
validation works offline (standards §7)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

DATA = Path(__file__).resolve().parent.parent / "data" / "csaf"
VENDORS = DATA / "vendors"


@functools.cache
def _validator() -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resources(
        (
            f"https://www.first.org/cvss/{path.name}",
            Resource.from_contents(
                json.loads(path.read_text("utf-8")), default_specification=DRAFT7
            ),
        )
        for path in sorted((DATA / "first").glob("cvss-v*.json"))
    )
    schema = json.loads((DATA / "csaf_json_schema.json").read_text("utf-8"))
    return Draft202012Validator(schema, registry=registry)


def oasis_problems(document: Any) -> list[str]:
    """What the official schema finds wrong with ``document`` (empty: valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator().iter_errors(document)
    ]
