"""STIX 2.1 bundles and objects → :class:`feeds.rules.records.Parsed` (pure module).

Read straight from the JSON (``orjson``), never through ``stix2`` objects: building one
``stix2.Indicator`` costs about 0.7 ms (its pattern grammar most of it), reading one here a few
microseconds (``bench/ingest.py``). Only the structure Vigie relies on is checked, object by
object; an invalid object is a :class:`Rejection` (its id and why) and the valid ones are kept:

* every kept object: ``type``, ``id`` ``<type>--<uuid>``, ``spec_version`` ``2.1``,
  ``created``/``modified`` RFC 3339 (``modified`` not before ``created``), ``confidence``
  0–100, ``revoked`` a boolean, ``labels`` strings, no NUL character in kept text;
* ``indicator``: ``pattern``, ``pattern_type``, ``valid_from``, ``valid_until`` after
  ``valid_from``; a ``stix`` pattern's values come from :mod:`feeds.rules.patterns` (an invalid
  pattern or value is a rejection naming it); a valid pattern without a supported comparison, or
  another pattern language (``yara``, ``sigma``…), is kept as context, with no value to match;
* ``relationship`` → :class:`RelationRecord`; an ``indicates`` relationship whose ends are both
  in the document becomes a :class:`Related` of the indicator (malware, ATT&CK technique with
  its ``T…`` id, intrusion set, campaign, threat actor, tool, vulnerability with its CVE);
* the context objects of :data:`CONTEXT_TYPES` → :class:`ObjectRecord`;
* anything else (``observed-data``, ``sighting``, observables, ``marking-definition``,
  ``note``, custom types…) is counted ``skipped``.

TLP comes from ``object_marking_refs`` (TLP 2.0 and TLP 1.0 marking ids; WHITE is CLEAR; the
strictest if several), else ``None``: the feed's default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from feeds.rules import patterns
from feeds.rules.bulk import paused_gc
from feeds.rules.keys import index_value
from feeds.rules.records import (
    IndicatorRecord,
    NotThatKind,
    ObjectRecord,
    Parsed,
    Rejection,
    Related,
    RelationRecord,
)
from feeds.rules.stixfields import (
    Invalid,
    common,
    kill_chain,
    reference,
    short,
    strings,
    text,
    timestamp,
)

CONTEXT_TYPES = frozenset(
    {
        "malware",
        "intrusion-set",
        "campaign",
        "threat-actor",
        "attack-pattern",
        "vulnerability",
        "tool",
        "identity",
        "report",
        "course-of-action",
    }
)
RELATED_TYPES = frozenset(
    {
        "malware",
        "attack-pattern",
        "intrusion-set",
        "campaign",
        "threat-actor",
        "tool",
        "vulnerability",
    }
)
# what an object keeps in ``data`` besides its name, description and aliases
_DATA_FIELDS = (
    "is_family",
    "malware_types",
    "threat_actor_types",
    "tool_types",
    "identity_class",
    "sectors",
    "report_types",
    "published",
    "object_refs",
    "first_seen",
    "last_seen",
    "goals",
    "primary_motivation",
    "sophistication",
)


def parse_bundle(data: bytes) -> Parsed:
    """A STIX 2.1 bundle's objects (:func:`parse_objects`); :class:`NotThatKind` when ``data``
    is not JSON or not a bundle (an HTML error page, a MISP event, a STIX 2.0 bundle…)."""
    try:
        with paused_gc():
            document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        start = data.lstrip()[:1]
        if start == b"<":
            raise NotThatKind("not a STIX bundle: an HTML or XML page, not JSON") from None
        raise NotThatKind(f"not a STIX bundle: not JSON ({exc})") from None
    return parse_objects(bundle_objects(document))


def bundle_objects(document: Any) -> list[Any]:
    """The ``objects`` of a decoded bundle; :class:`NotThatKind` naming what it is instead."""
    if not isinstance(document, dict):
        raise NotThatKind(
            f"not a STIX bundle: a JSON {type(document).__name__}, not an object "
            '{"type": "bundle", "objects": [...]}'
        )
    if document.get("type") != "bundle":
        if "Event" in document or "Attribute" in document:
            raise NotThatKind("not a STIX bundle: a MISP event")
        raise NotThatKind('not a STIX bundle: no "type": "bundle"')
    if document.get("spec_version") == "2.0":
        raise NotThatKind("a STIX 2.0 bundle: only STIX 2.1 is read")
    objects = document.get("objects", [])
    if not isinstance(objects, list):
        raise NotThatKind('not a STIX bundle: "objects" is not a list')
    return objects


def parse_objects(objects: Sequence[Mapping[str, Any]]) -> Parsed:
    """Records of STIX 2.1 objects (a bundle's, a TAXII page's), see the module's rules."""
    with paused_gc():
        return _parse_objects(objects)


def _parse_objects(objects: Sequence[Mapping[str, Any]]) -> Parsed:
    parsed = Parsed("stix")
    context: dict[str, Related] = {}
    for position, obj in enumerate(objects, 1):
        kind = obj.get("type") if isinstance(obj, Mapping) else None
        if not isinstance(kind, str) or not kind:
            parsed.rejections.append(Rejection(_ref(obj, position), "no type"))
            continue
        reader = _READERS.get(kind) or (_context if kind in CONTEXT_TYPES else None)
        if reader is None:
            parsed.skipped += 1
            continue
        try:
            reader(obj, parsed, context)
        except Invalid as exc:
            parsed.rejections.append(Rejection(_ref(obj, position), str(exc)))
    _resolve(parsed, context)
    return parsed


def _ref(obj: Any, position: int) -> str:
    ref = obj.get("id") if isinstance(obj, Mapping) else None
    if isinstance(ref, str) and ref and len(ref) <= 200 and "\x00" not in ref:
        return ref
    return f"object {position}"


def _indicator(obj: Mapping[str, Any], parsed: Parsed, context: dict[str, Related]) -> None:
    stix_id, modified, tlp, confidence = common(obj, "indicator")
    pattern = text(obj, "pattern", required=True)
    pattern_type = short(obj, "pattern_type", 32)
    valid_from = timestamp(obj, "valid_from", required=True)
    valid_until = timestamp(obj, "valid_until")
    if valid_until is not None and valid_from is not None and valid_until <= valid_from:
        raise Invalid("valid_until must be later than valid_from")
    revoked = obj.get("revoked", False)
    parsed.indicators.append(
        IndicatorRecord(
            source_ref=stix_id,
            values=_values(pattern) if pattern_type == "stix" else (),
            modified=modified,
            stix_id=stix_id,
            name=text(obj, "name"),
            description=text(obj, "description"),
            pattern=pattern,
            pattern_type=pattern_type,
            tlp=tlp,
            confidence=confidence,
            labels=strings(obj, "labels"),
            indicator_types=strings(obj, "indicator_types"),
            kill_chain_phases=kill_chain(obj),
            valid_from=valid_from,
            valid_until=valid_until,
            revoked=revoked,
        )
    )


def _values(pattern: str) -> tuple[Any, ...]:
    try:
        found = patterns.values(pattern)
    except patterns.InvalidPattern as exc:
        raise Invalid(str(exc)) from None
    indexed = []
    for kind, raw in found:
        try:
            indexed.append(index_value(kind, raw))
        except ValueError as exc:
            raise Invalid(f"invalid {kind} value {raw!r} in the pattern: {exc}") from None
    return tuple(dict.fromkeys(indexed))


def _relationship(obj: Mapping[str, Any], parsed: Parsed, context: dict[str, Related]) -> None:
    stix_id, modified, _, _ = common(obj, "relationship")
    relationship_type = short(obj, "relationship_type", 64)
    source_ref = reference(obj, "source_ref")
    target_ref = reference(obj, "target_ref")
    parsed.relations.append(
        RelationRecord(
            source_ref=source_ref,
            relationship_type=relationship_type,
            target_ref=target_ref,
            stix_id=stix_id,
            modified=modified,
            revoked=obj.get("revoked", False),
        )
    )


def _context(obj: Mapping[str, Any], parsed: Parsed, context: dict[str, Related]) -> None:
    kind: str = obj["type"]
    stix_id, modified, tlp, _ = common(obj, kind)
    name = text(obj, "name", required=kind != "malware")
    external_id = _external_id(obj, kind)
    data: dict[str, object] = {}
    for field in _DATA_FIELDS:
        if field in obj:
            value = obj[field]
            data[field] = (
                list(strings(obj, field)) if isinstance(value, list) else _scalar(value, field)
            )
    phases = kill_chain(obj)
    if phases:
        data["kill_chain_phases"] = list(phases)
    parsed.objects.append(
        ObjectRecord(
            stix_id=stix_id,
            type=kind,
            name=name,
            modified=modified,
            external_id=external_id,
            description=text(obj, "description"),
            aliases=strings(obj, "aliases"),
            revoked=obj.get("revoked", False),
            tlp=tlp,
            data=data,
        )
    )
    if kind in RELATED_TYPES:
        context[stix_id] = Related(kind, name, external_id, stix_id)


def _scalar(value: object, field: str) -> object:
    if isinstance(value, str):
        if "\x00" in value:
            raise Invalid(f"{field} contains a NUL character")
        return value[:1000]
    if value is None or isinstance(value, bool | int | float):
        return value
    raise Invalid(f"{field} must be a string, a number or a list of strings")


def _external_id(obj: Mapping[str, Any], kind: str) -> str | None:
    source = {"attack-pattern": "mitre-attack", "vulnerability": "cve"}.get(kind)
    references = obj.get("external_references")
    if source is None or not isinstance(references, list):
        return None
    for entry in references:
        if isinstance(entry, Mapping) and entry.get("source_name") == source:
            external_id = entry.get("external_id")
            if (
                isinstance(external_id, str)
                and 0 < len(external_id) <= 64
                and "\x00" not in external_id
            ):
                return external_id.upper() if kind == "vulnerability" else external_id
    return None


def _resolve(parsed: Parsed, context: dict[str, Related]) -> None:
    """``indicates`` relationships within the document → the indicator's ``related``."""
    if not context or not parsed.relations:
        return
    targets: dict[str, list[Related]] = {}
    for relation in parsed.relations:
        if relation.relationship_type == "indicates" and not relation.revoked:
            related = context.get(relation.target_ref)
            if related is not None:
                targets.setdefault(relation.source_ref, []).append(related)
    for record in parsed.indicators:
        found = targets.get(record.source_ref)
        if found:
            record.related = tuple(dict.fromkeys((*record.related, *found)))


_READERS = {"indicator": _indicator, "relationship": _relationship}
