"""The official OASIS CSAF 2.0 JSON schema (2020-12), shipped with Vigie in
``bulletins/data/csaf/`` with the FIRST CVSS v2.0/v3.0/v3.1 schemas it references by URL,
registered locally so that validation never goes to the network (standards §7)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

CVSS = {
    "https://www.first.org/cvss/cvss-v2.0.json": "cvss-v2.0.json",
    "https://www.first.org/cvss/cvss-v3.0.json": "cvss-v3.0.json",
    "https://www.first.org/cvss/cvss-v3.1.json": "cvss-v3.1.json",
}
MAX_ERRORS = 50

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


def _read(*parts: str) -> Any:
    path = resources.files("bulletins").joinpath("data", "csaf", *parts)
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def validator() -> Draft202012Validator:
    # imported here: jsonschema's format checkers cost ~1 s of start-up (rfc3987-syntax builds a
    # grammar), which every CLI command and scheduler would pay otherwise; see cert.warm
    from jsonschema import Draft202012Validator

    registry: Registry[Any] = Registry().with_resources(
        (url, Resource.from_contents(_read("first", name), default_specification=DRAFT7))
        for url, name in CVSS.items()
    )
    return Draft202012Validator(_read("csaf_json_schema.json"), registry=registry)


def json_path(parts: Any) -> str:
    """``["document", "notes", 0]`` → ``/document/notes/0`` (a JSON pointer)."""
    return "/" + "/".join(str(p) for p in parts) if parts else "/"


def schema_problems(document: Any) -> list[tuple[str, str]]:
    """(JSON path, message) for each place ``document`` breaks the schema (at most 50)."""
    out: list[tuple[str, str]] = []
    errors = sorted(validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    for error in errors[:MAX_ERRORS]:
        out.append((json_path(error.absolute_path), error.message[:300]))
    return out
