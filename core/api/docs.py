"""The human-readable API reference: the OpenAPI document rendered server-side (web kit).

No JavaScript and no CDN (the CSP forbids both): operations, parameters, bodies, responses and
schemas come from the same document as ``/api/v1/openapi.json``, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

CONSTRAINTS = {
    "minLength": "min length",
    "maxLength": "max length",
    "minimum": "≥",
    "maximum": "≤",
    "minItems": "min items",
    "maxItems": "max items",
    "pattern": "pattern",
    "format": "format",
    "default": "default",
}


@dataclass(frozen=True)
class Row:
    """A parameter, property or response line of the page."""

    name: str
    type: Markup
    required: bool
    notes: Markup


@dataclass(frozen=True)
class OperationView:
    method: str
    path: str
    anchor: str
    summary: str
    description: Markup
    public: bool
    parameters: list[Row]
    body: tuple[str, Markup] | None  # (media type, schema)
    responses: list[Row]


@dataclass(frozen=True)
class SchemaView:
    name: str
    description: Markup
    values: list[str]  # enumerations
    properties: list[Row]


def type_label(schema: Mapping[str, Any]) -> Markup:
    """``string``, ``array of <a href="#schema-X">X</a>``, ``A | null``…"""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return Markup(" | ").join(type_label(option) for option in schema[combinator])
    if "enum" in schema:
        return Markup("one of ") + ", ".join(str(value) for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return Markup("array of ") + type_label(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return Markup("object of ") + type_label(schema["additionalProperties"])
    if "contentMediaType" in schema:
        return escape(f"file ({schema['contentMediaType']})")
    return escape(str(kind))


def notes(schema: Mapping[str, Any], description: str = "") -> Markup:
    """Description (``code`` spans rendered) and constraints, e.g. ``… (max length 200)``."""
    description = description or str(schema.get("description", ""))
    options = [schema, *[o for o in schema.get("anyOf", ()) if o.get("type") != "null"]]
    limits = [
        f"{label} {option[key]}"
        for option in options
        for key, label in CONSTRAINTS.items()
        if key in option
    ]
    text = inline_code(description)
    if not limits:
        return text
    if not text:
        return escape("; ".join(limits))
    return text + Markup(" (") + "; ".join(limits) + Markup(")")


def inline_code(text: str) -> Markup:
    """Plain text with its Markdown code spans (backticks) as ``<code>``, the rest escaped."""
    parts = str(escape(text)).split("`")
    html = "".join(part if i % 2 == 0 else f"<code>{part}</code>" for i, part in enumerate(parts))
    return Markup(html)  # noqa: S704 -- built from escaped text only


def operations(document: Mapping[str, Any]) -> list[OperationView]:
    result = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            body = None
            if "requestBody" in spec:
                media, content = next(iter(spec["requestBody"]["content"].items()))
                body = (media, type_label(content["schema"]))
            result.append(
                OperationView(
                    method=method.upper(),
                    path=path,
                    anchor=spec["operationId"].replace(".", "-"),
                    summary=spec.get("summary", ""),
                    description=inline_code(spec.get("description", "")),
                    public=spec.get("security") == [],
                    parameters=[_parameter(p) for p in spec.get("parameters", ())],
                    body=body,
                    responses=[
                        _response(status, reply, document)
                        for status, reply in spec["responses"].items()
                    ],
                )
            )
    return result


def _parameter(parameter: Mapping[str, Any]) -> Row:
    schema = parameter.get("schema", {})
    text = notes(schema, parameter.get("description", ""))
    name = f"{parameter['name']} ({parameter['in']})"
    return Row(name, type_label(schema), bool(parameter.get("required")), text)


def _response(status: str, reply: Mapping[str, Any], document: Mapping[str, Any]) -> Row:
    if "$ref" in reply:
        reply = document["components"]["responses"][reply["$ref"].rsplit("/", 1)[-1]]
    content = reply.get("content", {})
    label = Markup(", ").join(
        escape(media) + Markup(": ") + type_label(value.get("schema", {}))
        for media, value in content.items()
    )
    return Row(status, label, False, inline_code(str(reply.get("description", ""))))


def schemas(document: Mapping[str, Any]) -> list[SchemaView]:
    result = []
    for name, schema in sorted(document["components"]["schemas"].items()):
        required = set(schema.get("required", ()))
        properties = [
            Row(prop_name, type_label(prop), prop_name in required, notes(prop))
            for prop_name, prop in schema.get("properties", {}).items()
        ]
        values = [str(value) for value in schema.get("enum", ())]
        description = inline_code(str(schema.get("description", "")))
        result.append(SchemaView(name, description, values, properties))
    return result
