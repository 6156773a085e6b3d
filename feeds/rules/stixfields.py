"""Checked reads of STIX 2.1 object properties (pure module, used by :mod:`feeds.rules.stix`).

Each function reads one property of a decoded JSON object and returns it in the record's type
or raises :class:`Invalid` naming the property and the problem (the object is then rejected).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Any

from core.markings import Tlp

# RFC 3339 date-time (STIX writes UTC with "Z"; an offset is read and converted)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")
_ID = re.compile(
    r"([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)--"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
TEXT_LIMIT = 100_000

# TLP 2.0 (OASIS extension) and TLP 1.0 (STIX 2.1 predefined) marking-definition ids
TLP_MARKINGS: dict[str, Tlp] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # 1.0 WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}


class Invalid(ValueError):
    """One object breaks a rule Vigie relies on (the message names the property)."""


def common(
    obj: Mapping[str, Any], kind: str
) -> tuple[str, dt.datetime | None, Tlp | None, int | None]:
    """Id, ``modified``, TLP and confidence of an SDO/SRO, its common properties checked."""
    stix_id = obj.get("id")
    if not isinstance(stix_id, str):
        raise Invalid("no id")
    found = _ID.fullmatch(stix_id)
    if found is None or found.group(1) != kind:
        raise Invalid(f"id {stix_id[:120]!r} is not {kind}--<uuid>")
    if obj.get("spec_version") != "2.1":
        raise Invalid(f"spec_version {obj.get('spec_version')!r}: only STIX 2.1 objects are read")
    created = timestamp(obj, "created", required=True)
    modified = timestamp(obj, "modified", required=True)
    if created is not None and modified is not None and modified < created:
        raise Invalid("modified is earlier than created")
    confidence = obj.get("confidence")
    if confidence is not None and (
        type(confidence) is not int or not 0 <= confidence <= 100  # bool is not a confidence
    ):
        raise Invalid(f"confidence {str(confidence)[:40]} is not an integer from 0 to 100")
    if type(obj.get("revoked", False)) is not bool:
        raise Invalid("revoked must be true or false")
    return stix_id, modified, tlp(obj), confidence


def reference(obj: Mapping[str, Any], field: str) -> str:
    """A property naming another object by its id (``<type>--<uuid>``, at most 100 characters)."""
    raw = text(obj, field, required=True)
    if len(raw) > 100 or _ID.fullmatch(raw) is None:
        raise Invalid(f"{field} {raw[:120]!r} is not a STIX id")
    return raw


def short(obj: Mapping[str, Any], field: str, limit: int) -> str:
    """A required string property of at most ``limit`` characters (a vocabulary term)."""
    raw = text(obj, field, required=True)
    if len(raw) > limit:
        raise Invalid(f"{field} is longer than {limit} characters")
    return raw


def timestamp(obj: Mapping[str, Any], field: str, *, required: bool = False) -> dt.datetime | None:
    """An RFC 3339 timestamp property, in UTC."""
    raw = obj.get(field)
    if raw is None:
        if required:
            raise Invalid(f"no {field}")
        return None
    if not isinstance(raw, str):
        raise Invalid(f"{field} {str(raw)[:60]!r} is not an RFC 3339 timestamp")
    value = _instant(raw)
    if value is None:
        raise Invalid(f"{field} {raw[:60]!r} is not an RFC 3339 timestamp")
    if isinstance(value, str):
        raise Invalid(f"{field} {raw!r} is not a valid date: {value}")
    return value


@functools.lru_cache(maxsize=4096)
def _instant(raw: str) -> dt.datetime | str | None:
    """``raw`` in UTC; ``None`` if not RFC 3339, the reason if not a date (cached: an object's
    created, modified and valid_from are often the same string, a bundle's often close)."""
    if _TIMESTAMP.fullmatch(raw) is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        return str(exc)
    return value if raw[-1] == "Z" else value.astimezone(dt.UTC)


def text(obj: Mapping[str, Any], field: str, *, required: bool = False) -> str:
    """A string property (``""`` when absent and optional)."""
    raw = obj.get(field)
    if raw is None or raw == "":
        if required:
            raise Invalid(f"no {field}")
        return ""
    if not isinstance(raw, str):
        raise Invalid(f"{field} must be a string")
    if "\x00" in raw:
        raise Invalid(f"{field} contains a NUL character")
    if len(raw) > TEXT_LIMIT:
        raise Invalid(f"{field} is longer than {TEXT_LIMIT} characters")
    return raw


def strings(obj: Mapping[str, Any], field: str) -> tuple[str, ...]:
    """A list-of-strings property (``()`` when absent)."""
    raw = obj.get(field)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise Invalid(f"{field} must be a list of strings")
    for item in raw:
        if type(item) is not str:
            raise Invalid(f"{field} must be a list of strings")
        if "\x00" in item:
            raise Invalid(f"{field} contains a NUL character")
    return tuple(raw)


def kill_chain(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """``kill_chain_phases`` as ``"<kill chain>:<phase>"``."""
    raw = obj.get("kill_chain_phases")
    if raw is None:
        return ()
    phases = []
    for phase in raw if isinstance(raw, list) else [None]:
        chain = phase.get("kill_chain_name") if isinstance(phase, Mapping) else None
        name = phase.get("phase_name") if isinstance(phase, Mapping) else None
        if not isinstance(chain, str) or not isinstance(name, str) or not chain or not name:
            raise Invalid("kill_chain_phases must be a list of {kill_chain_name, phase_name}")
        if "\x00" in chain or "\x00" in name:
            raise Invalid("kill_chain_phases contains a NUL character")
        phases.append(f"{chain}:{name}")
    return tuple(phases)


def tlp(obj: Mapping[str, Any]) -> Tlp | None:
    """The strictest TLP among ``object_marking_refs`` (``None``: none is a TLP marking)."""
    refs = obj.get("object_marking_refs")
    if not refs:
        return None
    if not isinstance(refs, list):
        raise Invalid("object_marking_refs must be a list of ids")
    found = None
    for ref in refs:
        label = TLP_MARKINGS.get(ref) if isinstance(ref, str) else None
        if label is not None and (found is None or label.rank > found.rank):
            found = label
    return found
