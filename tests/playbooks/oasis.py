"""The OASIS CACAO 2.0 JSON schemas (cyentific-rni/cacao-json-schemas, branch cacao-v2.0-cs01,
Apache-2.0; copied into tests/data/cacao_2.0 — the product never reads them): every schema file
is registered under its ``$id`` so that the relative ``$ref``s resolve offline, and
:func:`oasis_problems` lists what the draft-07 validator finds wrong with a document."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "cacao_2.0"


@functools.cache
def _validator() -> Draft7Validator:
    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        schema = json.loads(path.read_text("utf-8"))
        resources.append(
            (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7))
        )
    registry: Registry[Any] = Registry().with_resources(resources)
    root = json.loads((SCHEMAS / "playbook.json").read_text("utf-8"))
    return Draft7Validator(root, registry=registry)


def oasis_problems(document: Any) -> list[str]:
    """Each schema violation as ``"<json path>: <message>"`` (empty: the document validates)."""
    return [
        f"{error.json_path}: {error.message}"
        for error in sorted(_validator().iter_errors(document), key=lambda e: e.json_path)
    ]
