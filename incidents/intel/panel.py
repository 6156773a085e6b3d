"""The incident file's "Threat intelligence" panel (read model, Flask-free; CERT staff only).

Each sighting with its context — the observable, the indicator (name or pattern), its feed,
confidence and TLP, why it matched, what it points to (malware, intrusion sets, campaigns,
ATT&CK techniques from ``Indicator.related``), until when it is valid and how it was found —
and the observables known to be benign (MISP warning lists), in two queries. Reporters never
get it: an empty panel for anyone but CERT staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.identity.authz import Actor
from feeds.models import Indicator
from incidents.intel.models import IncidentMatch
from incidents.models import Incident, IncidentObservable

RELATED_ORDER = ("malware", "intrusion-set", "campaign", "threat-actor", "attack-pattern")


@dataclass(frozen=True)
class Sighting:
    match: IncidentMatch
    observable: IncidentObservable
    indicator: Indicator
    related: list[tuple[str, list[str]]]  # (STIX type, names: "T1566 Phishing"…)


@dataclass(frozen=True)
class IntelPanel:
    sightings: list[Sighting] = field(default_factory=list)
    benign: list[IncidentObservable] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sightings or self.benign)


def intel_panel(session: Session, actor: Actor, incident: Incident) -> IntelPanel:
    if not actor.is_cert_staff:
        return IntelPanel()
    observables = {o.id: o for o in incident.observables}
    matches = session.scalars(
        select(IncidentMatch)
        .options(joinedload(IncidentMatch.indicator))
        .where(IncidentMatch.incident_id == incident.id)
        .order_by(IncidentMatch.id)
    ).all()
    sightings = [
        Sighting(m, observables[m.observable_id], m.indicator, related_names(m.indicator.related))
        for m in matches
        if m.observable_id in observables
    ]
    sightings.sort(key=lambda s: (-s.indicator.confidence, s.match.id))
    return IntelPanel(sightings, [o for o in observables.values() if o.warning_lists])


def related_names(related: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """The indicator's context grouped by type (malware first, then intrusion sets, campaigns,
    threat actors, ATT&CK techniques, then the others), each name once."""
    groups: dict[str, list[str]] = {}
    for item in related:
        kind = str(item.get("type") or "")
        name = str(item.get("name") or "")
        external = item.get("external_id")
        label = f"{external} {name}".strip() if external and external != name else name
        if kind and label and label not in groups.setdefault(kind, []):
            groups[kind].append(label)
    order = {kind: i for i, kind in enumerate(RELATED_ORDER)}
    return sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


def sighted(session: Session, incident_ids: Sequence[int]) -> set[int]:
    """Which of these incidents have a sighting (the queue's marker; one indexed query)."""
    if not incident_ids:
        return set()
    return set(
        session.scalars(
            select(IncidentMatch.incident_id)
            .where(IncidentMatch.incident_id.in_(list(incident_ids)))
            .distinct()
        )
    )
