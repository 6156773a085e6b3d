"""STIX 2.1 objects built as plain dictionaries (pure: no DB, no HTTP, no ``stix2`` objects).

Shared by the incident export (:mod:`incidents.sharing.export`) and the TAXII server
(:mod:`incidents.sharing.collections`): the same observable gives the same ``indicator`` in both.
Plain dictionaries, because building ``stix2`` objects runs the pattern grammar (≈0.65 ms each):
a 1,000-object TAXII page would spend most of its time budget there. The tests check every object
with the OASIS ``stix2-validator`` and ``stix2.parse``.

Identifiers are deterministic:

* SCOs: UUIDv5 in the STIX namespace over their id-contributing properties (STIX 2.1 §2.9), so
  that ``ipv4-addr--…`` is the same everywhere (the tests compare with ``stix2``'s ids);
* objects made from a row (an observable's ``indicator`` and ``observed-data``, a match's
  ``sighting``): :func:`row_id`, which the TAXII server can read back;
* Vigie's other SDOs and SROs: a UUIDv5 in a namespace of the installation (:func:`namespace`, from
  the reference prefix) over a stable key — the incident's reference, the observable's row id —
  stamped as version 4 (:func:`stable_id`), so that a re-export is a new *version* (same id,
  later ``modified``), never a duplicate;
* the producer ``identity`` (:class:`Producer`): ``stable_id("identity", namespace(prefix),
  "producer")``. Only its ``name`` comes from ``CERT_NAME``: renaming the CERT changes no id,
  so consumers keep one producer (its ``modified`` stays :data:`PRODUCER_SINCE`, so a consumer
  that stored the object keeps the former name until it fetches it again);
* TLP 2.0 marking definitions: the fixed ids of ``core/data/tlp.json`` (never minted).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.markings import Tlp, tlp_table

Obj = dict[str, Any]

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 §2.9
VIGIE_NAMESPACE = uuid.UUID("5d3a8d0e-4c1b-5b7e-9f5e-7669676965a1")  # Vigie's own, fixed
INCIDENT_CORE = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"

SCO_TYPES = {  # Vigie observable type → (SCO type, hash name or None)
    "ipv4": ("ipv4-addr", None),
    "ipv6": ("ipv6-addr", None),
    "domain": ("domain-name", None),
    "url": ("url", None),
    "email": ("email-addr", None),
    "md5": ("file", "MD5"),
    "sha1": ("file", "SHA-1"),
    "sha256": ("file", "SHA-256"),
}
INDICATOR_TYPES = frozenset(SCO_TYPES)  # observable types with a STIX pattern (not CVEs)


def namespace(producer: str) -> uuid.UUID:
    """The UUIDv5 namespace of an installation (its reference prefix, e.g. ``MACERT``)."""
    return uuid.uuid5(VIGIE_NAMESPACE, producer.strip().upper())


def stable_id(kind: str, ns: uuid.UUID, key: str) -> str:
    """A stable SDO/SRO id: the UUIDv5 of ``kind/key`` in ``ns``, stamped as version 4.

    STIX asks for UUIDv4 in SDO and SRO ids (validators warn, code 103, on any other version);
    122 bits of SHA-1 output are as good as random ones, and the same key gives the same id.
    """
    derived = uuid.uuid5(ns, f"{kind}/{key}")
    return f"{kind}--{uuid.UUID(bytes=derived.bytes, version=4)}"


@functools.cache
def _row_key(kind: str, ns: uuid.UUID, family: str) -> tuple[str, bytes, int]:
    """(text of the id's fixed part, its bytes, the row mask) of ``kind`` in ``ns``."""
    digest = hashlib.sha256(ns.bytes + f"{kind}/{family}".encode()).digest()
    fixed = uuid.UUID(bytes=digest[:16], version=4)
    return str(fixed)[:23], fixed.bytes[:10], int.from_bytes(digest[16:22], "big")


def row_id(kind: str, ns: uuid.UUID, family: str, row: int) -> str:
    """The id of an object made from a database row (``family``: ``observable``, ``match``):
    80 bits fixed per installation and kind (version 4 and variant bits included), then the
    row number masked in the last 48 — so that the TAXII server finds a row from an id it is
    asked for (``match[id]``, an object's URL) without storing ids. (Consecutive rows give
    neighbouring ids: the ids are not secrets, and the objects' dates say as much.)"""
    text, _, mask = _row_key(kind, ns, family)
    return f"{kind}--{text}-{row ^ mask:012x}"


def row_of(stix_id: str, kind: str, ns: uuid.UUID, family: str) -> int | None:
    """The row number :func:`row_id` put in ``stix_id``, or ``None`` if it is not such an id."""
    head, sep, tail = stix_id.partition("--")
    if head != kind or not sep:
        return None
    try:
        raw = uuid.UUID(tail).bytes
    except ValueError:
        return None
    _, fixed, mask = _row_key(kind, ns, family)
    return int.from_bytes(raw[10:], "big") ^ mask if raw[:10] == fixed else None


def timestamp(when: dt.datetime) -> str:
    """RFC 3339 UTC with milliseconds (``2026-03-01T10:00:00.123Z``), as STIX writes them."""
    utc = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def precise(when: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds: TAXII ``date_added`` (a checkpoint must not lose any)."""
    utc = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# ---------------------------------------------------------------- markings
def marking_id(tlp: Tlp) -> str:
    return tlp_table()[tlp].stix_id


def marking_object(tlp: Tlp) -> Obj:
    """The TLP 2.0 ``marking-definition`` (fixed id, 2022-10-01), shipped with what it marks."""
    return dict(tlp_table()[tlp].stix_object)


def markings_for(objects: Iterable[Obj]) -> list[Obj]:
    """The marking definitions ``objects`` refer to, in TLP order."""
    used = {ref for obj in objects for ref in obj.get("object_marking_refs", ())}
    return [marking_object(t) for t in Tlp if marking_id(t) in used]


# ---------------------------------------------------------------- observables
def _canonical_json(data: Obj) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sco(kind: str, value: str) -> Obj:
    """The STIX Cyber-observable of a Vigie observable (``ValueError`` for a CVE)."""
    sco_type, hash_name = SCO_TYPES[kind]
    props: Obj = {"hashes": {hash_name: value}} if hash_name else {"value": value}
    ident = uuid.uuid5(SCO_NAMESPACE, _canonical_json(props))
    return {"type": sco_type, "spec_version": "2.1", "id": f"{sco_type}--{ident}", **props}


def literal(value: str) -> str:
    """A pattern string literal: ``'`` and ``\\`` escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(kind: str, value: str) -> str:
    sco_type, hash_name = SCO_TYPES[kind]
    if hash_name is None:
        path = "value"
    else:
        path = f"hashes.{hash_name}" if "-" not in hash_name else f"hashes.'{hash_name}'"
    return f"[{sco_type}:{path} = {literal(value)}]"


@dataclass(frozen=True)
class Common:
    """What every Vigie object carries: its producer and its marking."""

    ns: uuid.UUID
    producer_ref: str
    producer_name: str
    tlp: Tlp

    def stamp(self, obj: Obj, created: dt.datetime, modified: dt.datetime | None = None) -> Obj:
        first = timestamp(created)
        return self.stamped(obj, first, timestamp(modified) if modified else first)

    def stamped(self, obj: Obj, created: str, modified: str) -> Obj:
        obj.update(
            spec_version="2.1",
            created=created,
            modified=modified,
            created_by_ref=self.producer_ref,
            object_marking_refs=[marking_id(self.tlp)],
        )
        return obj


def indicator(common: Common, row: int, kind: str, value: str, created: dt.datetime) -> Obj:
    """An observable (database row ``row``) as an ``indicator``."""
    when = timestamp(created)
    obj: Obj = {
        "type": "indicator",
        "id": row_id("indicator", common.ns, "observable", row),
        "name": f"{kind} {value}"[:250],
        "description": f"Observed in an incident reported to {common.producer_name}.",
        "indicator_types": ["anomalous-activity"],
        "pattern": pattern(kind, value),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": when,
    }
    return common.stamped(obj, when, when)


def observed_data(common: Common, row: int, refs: Sequence[str], seen: dt.datetime) -> Obj:
    obj: Obj = {
        "type": "observed-data",
        "id": row_id("observed-data", common.ns, "observable", row),
        "first_observed": timestamp(seen),
        "last_observed": timestamp(seen),
        "number_observed": 1,
        "object_refs": list(refs),
    }
    return common.stamp(obj, seen)


def vulnerability(common: Common, row: int, cve: str, created: dt.datetime) -> Obj:
    obj: Obj = {
        "type": "vulnerability",
        "id": row_id("vulnerability", common.ns, "observable", row),
        "name": cve,
        "external_references": [{"source_name": "cve", "external_id": cve}],
    }
    return common.stamp(obj, created)


def sighting(
    common: Common,
    row: int,
    of_ref: str,
    seen: dt.datetime,
    *,
    observed_refs: Sequence[str] = (),
    where_refs: Sequence[str] = (),
) -> Obj:
    """A sighting (match row ``row``) of a feed's indicator (``of_ref``) in an observable."""
    obj: Obj = {
        "type": "sighting",
        "id": row_id("sighting", common.ns, "match", row),
        "sighting_of_ref": of_ref,
        "first_seen": timestamp(seen),
        "last_seen": timestamp(seen),
        "count": 1,
    }
    if observed_refs:
        obj["observed_data_refs"] = list(observed_refs)
    if where_refs:
        obj["where_sighted_refs"] = list(where_refs)
    return common.stamp(obj, seen)


def relationship(common: Common, source: str, kind: str, target: str, at: dt.datetime) -> Obj:
    obj: Obj = {
        "type": "relationship",
        "id": stable_id("relationship", common.ns, f"{source}/{kind}/{target}"),
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
    }
    return common.stamp(obj, at)


# ---------------------------------------------------------------- identities
PRODUCER_SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # a fixed version: never re-issued


@dataclass(frozen=True)
class Producer:
    """The CERT that makes Vigie's objects. ``seed``, the reference prefix (``MACERT``; a
    bulletin's: the prefix of its own reference), fixes the namespace and so every id,
    the identity's included; ``name`` (``CERT_NAME``, "maCERT") is what the identity and the
    descriptions call it, and changes no id."""

    seed: str
    name: str

    @property
    def ns(self) -> uuid.UUID:
        return namespace(self.seed)

    def identity(self) -> Obj:
        return producer(self.ns, self.name)

    def common(self, tlp: Tlp) -> Common:
        """What this producer's objects marked ``tlp`` carry."""
        return Common(self.ns, self.identity()["id"], self.name, tlp)


def producer(ns: uuid.UUID, name: str) -> Obj:
    """The CERT running Vigie (``created_by_ref`` of every object): not marked, public."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": stable_id("identity", ns, "producer"),
        "created": timestamp(PRODUCER_SINCE),
        "modified": timestamp(PRODUCER_SINCE),
        "name": name,
        "identity_class": "organization",
        "roles": ["CERT"],
    }


def sector_identity(ns: uuid.UUID, sectors: Sequence[str]) -> Obj:
    """The victim as a class, never by name: "a government-national organisation (healthcare)".

    Its id depends only on the sectors, so that every organisation of the same sectors shares it
    and two bundles cannot be linked to one ministry through it; a class names nobody, so it is
    not marked (the same object everywhere: what is sensitive is the incident or sighting that
    refers to it, and they are marked).
    """
    label = ", ".join(sectors)
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": stable_id("identity", ns, f"sector/{label}"),
        "created": timestamp(PRODUCER_SINCE),
        "modified": timestamp(PRODUCER_SINCE),
        "name": f"Constituent organisation ({label})",
        "identity_class": "organization",
        "sectors": list(sectors),
    }


# ---------------------------------------------------------------- the incident
@dataclass(frozen=True)
class IncidentFacts:
    """What the ``incident`` object says: nothing the reporter wrote in free text."""

    reference: str
    category: str
    type: str | None
    determination: str
    investigation_status: str
    criticality: int
    created: dt.datetime
    modified: dt.datetime


def incident(common: Common, facts: IncidentFacts) -> Obj:
    """An ``incident`` with the Incident Core extension (standards.md §4.4)."""
    what = facts.category if facts.type is None else f"{facts.category} / {facts.type}"
    core: Obj = {
        "extension_type": "property-extension",
        "determination": facts.determination,
        "investigation_status": facts.investigation_status,
        "criticality": facts.criticality,
    }
    obj: Obj = {
        "type": "incident",
        "id": stable_id("incident", common.ns, facts.reference),
        "name": f"{facts.reference} ({what})",
        "external_references": [{"source_name": "vigie", "external_id": facts.reference}],
        "extensions": {INCIDENT_CORE: core},
    }
    return common.stamp(obj, facts.created, facts.modified)


def bundle(ns: uuid.UUID, key: str, objects: Sequence[Obj]) -> Obj:
    """A bundle (no ``spec_version``); its id is stable for the same content key."""
    return {"type": "bundle", "id": stable_id("bundle", ns, key), "objects": list(objects)}
