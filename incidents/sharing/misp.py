"""An incident as a MISP event (pure module: no database, no Flask).

:func:`build_event` turns what :mod:`incidents.sharing.misp_export` chose to share into the JSON a
MISP instance, PyMISP (``MISPEvent().load``) or a MISP feed consumer reads: ``{"Event": {…}}``.
The rules, each written once here:

* **Never beyond TLP.** A ``TLP:RED`` incident is never exported (:class:`NotShareable`); a
  ``TLP:RED`` observable is left out of any event. The event carries the incident's TLP as the
  ``tlp`` taxonomy tag (TLP 2.0, lower case: ``tlp:amber+strict``) and its MISP ``distribution``
  says the same audience: CLEAR → 3 (all communities), GREEN → 1 (this community only), AMBER and
  AMBER+STRICT → 0 (the receiving organisation only). An observable stricter than the incident
  gets its own ``tlp`` tag and distribution; the others inherit the event's (5).
* **What a partner reads.** ``info`` is the reference and the RSIT classification
  (``MACERT-2026-000042 — Fraud / Phishing``), never the reporter's title or description: those
  are the reporter's own words and may name people, hosts or the ministry. No organisation,
  contact, asset or file name leaves either. Values of the constituency's own assets (a
  ministry's registered domains and ranges: :mod:`incidents.observables.scope`) are left out:
  they would name the victim.
* **Tags.** ``tlp:…``, ``PAP:…`` (the PAP taxonomy's spelling) and the RSIT machine tag
  ``rsit:<class>="<type>"`` (``rsit:<class>`` without a type).
* **Levels.** ``threat_level_id`` from the priority (P1 → 1 High, P2 → 2 Medium, P3 and P4 → 3
  Low); ``analysis`` from the status (new, triaged → 0 Initial; in progress → 1 Ongoing;
  resolved, closed, rejected, duplicate → 2 Completed); ``date`` the day the incident was
  detected (else received), UTC; ``timestamp`` its last change.
* **Attributes.** ipv4/ipv6 → ``ip-dst``, domain → ``domain``, url → ``url`` (category *Network
  activity*), email → ``email-src``, md5/sha1/sha256 (*Payload delivery*), cve →
  ``vulnerability`` (*External analysis*). ``to_ids`` is MISP's default for the type (true but
  for ``vulnerability``) unless the value is on a MISP warning list (known-benign: the lists
  are named in the attribute's ``comment``) or is an address or name that cannot be an
  attacker's on the Internet (private, loopback, link-local, documentation, multicast,
  reserved). ``timestamp``: when the observable was recorded.
* **Stable identifiers.** The event's ``uuid`` is a UUID 5 of the reference, an attribute's a
  UUID 5 of the reference, type and value: exporting again gives the same uuids, so a MISP
  instance updates what it imported instead of duplicating it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.markings import Pap, Tlp
from incidents.models import IncidentStatus, Priority
from incidents.observables.scope import Constituency, Scope, classify
from incidents.rules.taxonomy import machine_tag, rsit_classes

# the namespace of Vigie's MISP uuids (a fixed random UUID: never change it)
NAMESPACE = uuid.UUID("8f2b6c1e-5d4a-4c7e-9a31-6b0e2f7d9c45")

DISTRIBUTION: dict[Tlp, int] = {
    Tlp.CLEAR: 3,  # all communities
    Tlp.GREEN: 1,  # this community only
    Tlp.AMBER: 0,  # the receiving organisation only (and, under TLP, its clients)
    Tlp.AMBER_STRICT: 0,
}
INHERIT = 5
THREAT_LEVEL: dict[Priority, int] = {
    Priority.P1: 1,  # High
    Priority.P2: 2,  # Medium
    Priority.P3: 3,  # Low
    Priority.P4: 3,
}
ANALYSIS: dict[IncidentStatus, int] = {
    IncidentStatus.NEW: 0,  # Initial
    IncidentStatus.TRIAGED: 0,
    IncidentStatus.IN_PROGRESS: 1,  # Ongoing
    IncidentStatus.RESOLVED: 2,  # Completed
    IncidentStatus.CLOSED: 2,
    IncidentStatus.REJECTED: 2,
    IncidentStatus.DUPLICATE: 2,
}
# Vigie observable type → (MISP type, category, MISP's default to_ids)
ATTRIBUTE: dict[str, tuple[str, str, bool]] = {
    "ipv4": ("ip-dst", "Network activity", True),
    "ipv6": ("ip-dst", "Network activity", True),
    "domain": ("domain", "Network activity", True),
    "url": ("url", "Network activity", True),
    "email": ("email-src", "Payload delivery", True),
    "md5": ("md5", "Payload delivery", True),
    "sha1": ("sha1", "Payload delivery", True),
    "sha256": ("sha256", "Payload delivery", True),
    "cve": ("vulnerability", "External analysis", False),
}


class NotShareable(ValueError):
    """The incident may not leave Vigie as a MISP event (``TLP:RED``)."""


@dataclass(frozen=True, slots=True)
class SharedIncident:
    """What the event says of the incident (nothing else of it is read)."""

    reference: str
    category: str  # RSIT class id
    type: str | None  # RSIT type id
    tlp: Tlp
    pap: Pap
    priority: Priority
    status: IncidentStatus
    detected_at: dt.datetime | None
    received_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SharedObservable:
    type: str  # Vigie observable type (feeds.rules.observables.ObservableType)
    value: str  # canonical
    tlp: Tlp
    created_at: dt.datetime
    warning_lists: tuple[str, ...] = ()


def tlp_tag(tlp: Tlp) -> str:
    """The MISP ``tlp`` taxonomy tag: ``TLP:AMBER+STRICT`` → ``tlp:amber+strict``."""
    return tlp.value.lower()


def event_uuid(reference: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"incident/{reference}"))


def attribute_uuid(reference: str, type: str, value: str) -> str:  # noqa: A002
    return str(uuid.uuid5(NAMESPACE, f"incident/{reference}/{type}/{value}"))


def info(incident: SharedIncident) -> str:
    """``<reference> — <RSIT class>`` (``/ <type>``): what a partner reads as the title."""
    rsit = rsit_classes().get(incident.category)
    if rsit is None:
        return f"{incident.reference} — {incident.category}"
    kind = rsit.type(incident.type) if incident.type else None
    return f"{incident.reference} — {rsit.name}" + (f" / {kind.name}" if kind else "")


def build_event(
    incident: SharedIncident,
    observables: Sequence[SharedObservable],
    constituency: Constituency | None = None,
) -> dict[str, Any]:
    """The MISP event of ``incident`` with the shareable ``observables`` (see the module)."""
    if incident.tlp == Tlp.RED:
        raise NotShareable(f"{incident.reference} is TLP:RED: it is never exported")
    day = incident.detected_at or incident.received_at
    tags = [
        tlp_tag(incident.tlp),
        incident.pap.value,
        machine_tag(incident.category, incident.type),
    ]
    attributes = [
        _attribute(incident, o)
        for o in observables
        if o.tlp != Tlp.RED and _shareable(o, constituency or Constituency())
    ]
    return {
        "Event": {
            "uuid": event_uuid(incident.reference),
            "info": info(incident),
            "date": day.astimezone(dt.UTC).date().isoformat(),
            "threat_level_id": str(THREAT_LEVEL[incident.priority]),
            "analysis": str(ANALYSIS[incident.status]),
            "distribution": str(DISTRIBUTION[incident.tlp]),
            "published": False,
            "timestamp": _epoch(incident.updated_at),
            "Tag": [{"name": name} for name in tags],
            "Attribute": attributes,
        }
    }


def _shareable(observable: SharedObservable, constituency: Constituency) -> bool:
    return (
        observable.type in ATTRIBUTE
        and classify(observable.type, observable.value, constituency).scope != Scope.OWN
    )


def detects(observable: SharedObservable) -> bool:
    """MISP ``to_ids``: the type's default, false when known-benign or not on the Internet."""
    default = ATTRIBUTE[observable.type][2]
    if not default or observable.warning_lists:
        return False
    return classify(observable.type, observable.value).scope == Scope.EXTERNAL


def _attribute(incident: SharedIncident, observable: SharedObservable) -> dict[str, Any]:
    misp_type, category, _ = ATTRIBUTE[observable.type]
    stricter = observable.tlp.rank > incident.tlp.rank
    attribute: dict[str, Any] = {
        "uuid": attribute_uuid(incident.reference, observable.type, observable.value),
        "type": misp_type,
        "category": category,
        "value": observable.value,
        "to_ids": detects(observable),
        "distribution": str(DISTRIBUTION[observable.tlp] if stricter else INHERIT),
        "timestamp": _epoch(observable.created_at),
        "comment": _comment(observable),
    }
    if stricter:
        attribute["Tag"] = [{"name": tlp_tag(observable.tlp)}]
    return attribute


def _comment(observable: SharedObservable) -> str:
    if not observable.warning_lists:
        return ""
    return "On MISP warning lists (known benign): " + "; ".join(observable.warning_lists)


def _epoch(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))
