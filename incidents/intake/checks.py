"""Rule checks of a submission that pydantic does not make (RSIT ids, explicit observables).

``submit_incident`` enforces the same rules, one after the other. Adapters that must name every
invalid field in one answer (the REST API's 422) run :func:`rule_errors` on the raw body next to
the pydantic validation and merge both: ``{"category": …, "observables[2]": …}``. Pure: no
database, no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import reason_of
from incidents.observables.extraction import canonicalise_observable
from incidents.rules.taxonomy import UnknownClassification, validate_classification


def rule_errors(raw: object) -> dict[str, str]:
    """Field → problem for the RSIT classification and each explicit observable of ``raw``.

    Values of the wrong shape are left to pydantic (it names them already).
    """
    if not isinstance(raw, Mapping):
        return {}
    return {**_classification_errors(raw), **_observable_errors(raw.get("observables"))}


def _classification_errors(raw: Mapping[str, Any]) -> dict[str, str]:
    category, rsit_type = raw.get("category"), raw.get("type")
    if not isinstance(category, str) or not category.strip():
        return {}
    type_id = rsit_type.strip().lower() if isinstance(rsit_type, str) else None
    try:
        validate_classification(category.strip().lower(), type_id or None)
    except UnknownClassification as exc:
        return {exc.field: reason_of(exc)}
    return {}


def _observable_errors(items: object) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    errors: dict[str, str] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        kind, value = item.get("type"), item.get("value")
        if not isinstance(kind, str) or not isinstance(value, str) or not value.strip():
            continue
        try:
            canonicalise_observable(kind, value)
        except ValueError as exc:
            errors[f"observables[{index}]"] = reason_of(exc)
    return errors
