"""Observables that connect incidents: where else an indicator was seen, and possible campaigns.

Read side for CERT staff only (the incident file and the queue; never a reporter-facing view):
Flask-free, and the only module of this package that reads the database. Only *external*
indicators (:mod:`incidents.observables.scope`) are matched: a private, documentation or
loopback address, a reserved name or the constituency's own range or domain connects nothing.

Everything is computed when read, in a fixed number of statements whatever the number of
observables, each a ``UNION ALL`` of one **bounded** branch per indicator, served by
``ix_incident_observables_value`` (value, type), then each incident by its primary key: a "hot"
indicator held by thousands of incidents costs no more than :data:`SEEN_CAP` rows.

* :func:`seen_in` (the file): per indicator, the other incidents holding it (the most recently
  recorded first, at most :data:`SEEN_CAP`: beyond, "100+"), then the :data:`EXAMPLES` named of
  each loaded in one query;
* :func:`campaign` (the file): per indicator, the open incidents of other organisations holding
  it (at most :data:`MAX_CAMPAIGN`), then those incidents in one query;
* :func:`campaign_flags` (a queue page): one grouped query for all the rows' indicators, the
  smallest and largest organisation id holding each in an open incident: a row is flagged when
  one of its indicators is held by an organisation other than its own. Not bounded per
  indicator: a ``LIMIT 1`` branch per indicator planned far worse (PostgreSQL: about a second
  for a page; SQLite: 9 times the grouped query) than this index-led scan, which reads a hot
  indicator's rows (see bench/README).

Other incidents are those the viewer may see (:func:`incidents.access.visible`): a ``TLP:RED``
incident an analyst may not open is neither counted nor named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CompoundSelect, Integer, Select, func, literal, select, union_all
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.identity.models import AssetKind, Organisation, OrganisationAsset
from incidents.access import visible
from incidents.models import OPEN_STATUSES, Incident, IncidentObservable
from incidents.observables.scope import Constituency, Mark, Owner, classify

__all__ = [
    "EXAMPLES",
    "Seen",
    "campaign",
    "campaign_flags",
    "load_constituency",
    "marks_of",
    "seen_in",
]

EXAMPLES = 5  # other incidents named per observable on the file
SEEN_CAP = 100  # other incidents read per indicator: beyond, the file says "100+"
MAX_SEEN = 100  # indicators of one file looked up (SQLite: at most 500 branches a statement)
MAX_FLAG_VALUES = 500  # indicators of one queue page
MAX_CAMPAIGN = 20  # incidents named in the campaign banner

_OPEN = sorted(OPEN_STATUSES)


@dataclass(frozen=True)
class Seen:
    """Where else an external indicator was seen (incidents the viewer may see)."""

    incidents: int  # at most SEEN_CAP
    organisations: int  # among those
    examples: list[Incident] = field(default_factory=list)  # most recently recorded first
    capped: bool = False  # SEEN_CAP reached: there may be more


def load_constituency(session: Session) -> Constituency:
    """Every organisation's registered ranges and domains (a small table, read whole)."""
    query = select(
        OrganisationAsset.kind,
        OrganisationAsset.value,
        Organisation.id,
        Organisation.name,
        Organisation.name_ar,
    ).join(Organisation, Organisation.id == OrganisationAsset.organisation_id)
    ranges: list[tuple[str, Owner]] = []
    domains: list[tuple[str, Owner]] = []
    for kind, value, org_id, name, name_ar in session.execute(query):
        owner = Owner(org_id, name, name_ar)
        (ranges if kind == AssetKind.IP_RANGE else domains).append((value, owner))
    return Constituency(ranges, domains)


def marks_of(
    observables: Iterable[IncidentObservable], constituency: Constituency
) -> dict[int, Mark]:
    """Observable id → its mark (external, private, the constituency's own…)."""
    return {o.id: classify(o.type, o.value, constituency) for o in observables}


def _external_pairs(
    observables: Iterable[IncidentObservable], marks: dict[int, Mark], limit: int
) -> list[tuple[str, str]]:
    pairs = {(o.type, o.value): None for o in observables if marks[o.id].external}
    return list(pairs)[:limit]


def _union(branches: Sequence[Select[*tuple[Any, ...]]]) -> CompoundSelect[*tuple[Any, ...]]:
    """One statement of bounded branches (each its own ``ORDER BY … LIMIT``, hence wrapped:
    SQLite refuses a LIMIT on a compound's member)."""
    return union_all(*(select(*branch.subquery().c) for branch in branches))


def _incidents(session: Session, ids: Iterable[int]) -> dict[int, Incident]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(wanted)))}


def seen_in(
    session: Session,
    actor: Actor,
    incident: Incident,
    observables: list[IncidentObservable],
    marks: dict[int, Mark],
) -> dict[int, Seen]:
    """Observable id → where else it was seen, for each external indicator seen elsewhere."""
    pairs = _external_pairs(observables, marks, MAX_SEEN)
    if not pairs:
        return {}
    io = IncidentObservable
    branches = [
        select(literal(k, Integer).label("k"), io.id, io.incident_id, Incident.organisation_id)
        .join(Incident, Incident.id == io.incident_id)
        .where(io.type == kind, io.value == value, io.incident_id != incident.id, visible(actor))
        .order_by(io.id.desc())
        .limit(SEEN_CAP)
        for k, (kind, value) in enumerate(pairs)
    ]
    found: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for k, row_id, incident_id, organisation_id in session.execute(_union(branches)):
        found[k].append((row_id, incident_id, organisation_id))
    for rows in found.values():
        rows.sort(reverse=True)  # most recently recorded first
    loaded = _incidents(session, (i for rows in found.values() for _, i, _ in rows[:EXAMPLES]))
    by_pair: dict[tuple[str, str], Seen] = {}
    for k, rows in found.items():
        examples = [loaded[i] for _, i, _ in rows[:EXAMPLES] if i in loaded]
        organisations = len({organisation for _, _, organisation in rows})
        by_pair[pairs[k]] = Seen(len(rows), organisations, examples, len(rows) >= SEEN_CAP)
    return {
        o.id: by_pair[(o.type, o.value)]
        for o in observables
        if (o.type, o.value) in by_pair and marks[o.id].external
    }


def campaign(
    session: Session,
    actor: Actor,
    incident: Incident,
    observables: list[IncidentObservable],
    marks: dict[int, Mark],
) -> list[tuple[Incident, list[str]]]:
    """Open incidents of other organisations sharing an external indicator with ``incident``
    (newest first, at most :data:`MAX_CAMPAIGN`), each with the shared values."""
    pairs = _external_pairs(observables, marks, MAX_SEEN)
    if not pairs:
        return []
    io = IncidentObservable
    branches = [
        select(literal(k, Integer).label("k"), io.incident_id)
        .join(Incident, Incident.id == io.incident_id)
        .where(
            io.type == kind,
            io.value == value,
            Incident.organisation_id != incident.organisation_id,
            Incident.status.in_(_OPEN),
            visible(actor),
        )
        .order_by(io.id.desc())
        .limit(MAX_CAMPAIGN)
        for k, (kind, value) in enumerate(pairs)
    ]
    shared: dict[int, list[str]] = defaultdict(list)
    for k, incident_id in session.execute(_union(branches)):
        shared[incident_id].append(pairs[k][1])
    newest = sorted(shared, reverse=True)[:MAX_CAMPAIGN]
    loaded = _incidents(session, newest)
    others = sorted(loaded.values(), key=lambda i: (i.received_at, i.id), reverse=True)
    return [(other, sorted(shared[other.id])) for other in others]


def campaign_flags(
    session: Session, actor: Actor, incidents: list[Incident], constituency: Constituency
) -> set[int]:
    """Of ``incidents`` (their observables loaded), the ids of those sharing an external
    indicator with an open incident of another organisation: one grouped query per page."""
    by_value: dict[str, list[Incident]] = defaultdict(list)
    for incident in incidents:
        for observable in incident.observables:
            if classify(observable.type, observable.value, constituency).external:
                by_value[observable.value].append(incident)
    values = list(by_value)[:MAX_FLAG_VALUES]
    if not values:
        return set()
    io = IncidentObservable
    query = (
        select(io.value, func.min(Incident.organisation_id), func.max(Incident.organisation_id))
        .join(Incident, Incident.id == io.incident_id)
        .where(io.value.in_(values), Incident.status.in_(_OPEN), visible(actor))
        .group_by(io.value)
    )
    flagged: set[int] = set()
    for value, lowest, highest in session.execute(query):
        for incident in by_value[value]:
            if lowest != incident.organisation_id or highest != incident.organisation_id:
                flagged.add(incident.id)
    return flagged
