"""What a parser makes of a feed document, before it reaches the index (pure module).

Every source kind (STIX 2.1 bundle, TAXII page, MISP event or feed, text or CSV blocklist) is
parsed into the same plain records; :mod:`feeds.index.store` writes them. A parser never raises
on one bad object: it adds a :class:`Rejection` (object id or line number, and why) and goes on;
it raises :class:`NotThatKind` only when the document as a whole is not what it claims to be
(then nothing is stored).

Index values are ``(kind, value)`` pairs in the canonical spelling of
:func:`feeds.rules.observables.canonicalise` — the same spelling as an incident's observables,
so matching is an equality. Networks are ``ipv4``/``ipv6`` values with a prefix length
(``198.51.100.0/24``, the network address, never a host address).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.markings import Tlp


class NotThatKind(ValueError):
    """The document is not what it claims to be (not JSON, not a bundle, not a MISP event, an
    HTML error page…): refused whole, nothing stored. The message says what was expected."""


@dataclass(frozen=True, slots=True)
class IndexValue:
    """One matchable value of an indicator: ``kind`` is an observable type (``ipv4``,
    ``domain``, ``sha256``…), ``value`` its canonical spelling (a network keeps its prefix)."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Related:
    """Context an indicator points to: a malware, intrusion set, campaign, threat actor, ATT&CK
    technique (``attack-pattern`` with ``external_id`` ``T1566``), vulnerability (``CVE-…``)."""

    type: str
    name: str
    external_id: str | None = None
    stix_id: str | None = None


@dataclass(slots=True)
class IndicatorRecord:
    """One indicator as the source states it.

    ``source_ref`` identifies it within its feed and is the versioning key: a STIX id
    (``indicator--…``), a MISP attribute uuid, or ``<kind>:<value>`` for a blocklist line.
    ``modified`` orders versions (newer wins; ``None`` for lists, which have no versions).
    ``tlp`` / ``confidence`` ``None`` mean "the feed's default". ``detect`` is MISP's
    ``to_ids``: an indicator stored for context that must not raise a match when false.
    """

    source_ref: str
    values: tuple[IndexValue, ...]
    modified: dt.datetime | None = None
    stix_id: str | None = None
    name: str = ""
    description: str = ""
    pattern: str | None = None
    pattern_type: str | None = None
    tlp: Tlp | None = None
    confidence: int | None = None
    labels: tuple[str, ...] = ()
    indicator_types: tuple[str, ...] = ()
    kill_chain_phases: tuple[str, ...] = ()  # "<kill chain>:<phase>"
    related: tuple[Related, ...] = ()
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    revoked: bool = False
    detect: bool = True
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None


@dataclass(slots=True)
class ObjectRecord:
    """A STIX domain object that gives indicators context (malware, intrusion-set, campaign,
    threat-actor, attack-pattern, vulnerability, identity, tool, report…), keyed by id."""

    stix_id: str
    type: str
    name: str
    modified: dt.datetime | None = None
    external_id: str | None = None  # ATT&CK technique id, CVE id
    description: str = ""
    aliases: tuple[str, ...] = ()
    revoked: bool = False
    tlp: Tlp | None = None
    data: dict[str, object] = field(default_factory=dict)  # kill chain, malware types…


@dataclass(frozen=True, slots=True)
class RelationRecord:
    """A STIX ``relationship`` (``indicator--a indicates malware--b``), or a sighting's link."""

    source_ref: str
    relationship_type: str
    target_ref: str
    stix_id: str | None = None
    modified: dt.datetime | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class Rejection:
    """An object or line left out, and why (``ref``: its id, ``line 12``, ``attribute <uuid>``)."""

    ref: str
    reason: str


@dataclass(slots=True)
class Parsed:
    """Everything one document gave. ``kind`` names what was recognised (``stix``,
    ``misp-event``, ``misp-manifest``, ``csv``, ``text``); ``skipped`` counts objects of types
    the index does not keep (not errors)."""

    kind: str
    indicators: list[IndicatorRecord] = field(default_factory=list)
    objects: list[ObjectRecord] = field(default_factory=list)
    relations: list[RelationRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0
