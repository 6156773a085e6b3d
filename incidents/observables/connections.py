"""Observables that connect incidents: where else an indicator was seen, and possible campaigns.

Read side for CERT staff only (the incident file and the queue; never a reporter-facing view):
Flask-free, and the only module of this package that reads the database. Only *external*
indicators (:mod:`incidents.observables.scope`) are matched: a private, documentation or
loopback address, a reserved name or the constituency's own range or domain connects nothing.

Everything is computed when read, in a fixed number of queries served by
``ix_incident_observables_value`` (value, type), then each incident by its primary key:

* :func:`seen_in` (the file): one grouped query for the counts of every observable of the file
  (other incidents, other organisations), one for the newest :data:`EXAMPLES` of each (a
  ``ROW_NUMBER()`` window);
* :func:`campaign` (the file): the open incidents of other organisations sharing an indicator;
* :func:`campaign_flags` (a queue page): one grouped query for all the rows' indicators, the
  smallest and largest organisation id holding each in an open incident: a row is flagged when
  one of its indicators is held by an organisation other than its own.

Other incidents are those the viewer may see (:func:`incidents.access.visible`): a ``TLP:RED``
incident an analyst may not open is neither counted nor named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
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
MAX_VALUES = 500  # observables of one file (or of one queue page) matched at most
MAX_CAMPAIGN = 20  # incidents named in the campaign banner

_OPEN = sorted(OPEN_STATUSES)


@dataclass(frozen=True)
class Seen:
    """Where else an external indicator was seen (incidents the viewer may see)."""

    incidents: int
    organisations: int
    examples: list[Incident] = field(default_factory=list)  # newest first


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


def _external(observables: Iterable[IncidentObservable], marks: dict[int, Mark]) -> list[str]:
    values = {o.value: None for o in observables if marks[o.id].external}
    return list(values)[:MAX_VALUES]


def seen_in(
    session: Session,
    actor: Actor,
    incident: Incident,
    observables: list[IncidentObservable],
    marks: dict[int, Mark],
) -> dict[int, Seen]:
    """Observable id → where else it was seen, for each external indicator seen elsewhere."""
    values = _external(observables, marks)
    if not values:
        return {}
    io = IncidentObservable
    where = (io.value.in_(values), io.incident_id != incident.id, visible(actor))
    counts_query = (
        select(
            io.type,
            io.value,
            func.count(io.incident_id),  # (incident, type, value) is unique
            func.count(func.distinct(Incident.organisation_id)),
        )
        .join(Incident, Incident.id == io.incident_id)
        .where(*where)
        .group_by(io.type, io.value)
    )
    counts = {(t, v): (n, orgs) for t, v, n, orgs in session.execute(counts_query)}
    if not counts:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=(io.type, io.value),
            order_by=(Incident.received_at.desc(), Incident.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(io.type, io.value, io.incident_id, rank)
        .join(Incident, Incident.id == io.incident_id)
        .where(*where)
        .subquery()
    )
    examples_query = (
        select(ranked.c.type, ranked.c.value, Incident)
        .join(Incident, Incident.id == ranked.c.incident_id)
        .where(ranked.c.rank <= EXAMPLES)
        .order_by(ranked.c.type, ranked.c.value, ranked.c.rank)
    )
    examples: dict[tuple[str, str], list[Incident]] = defaultdict(list)
    for kind, value, other in session.execute(examples_query):
        examples[(kind, value)].append(other)
    result: dict[int, Seen] = {}
    for observable in observables:
        key = (observable.type, observable.value)
        if key in counts and marks[observable.id].external:
            n, orgs = counts[key]
            result[observable.id] = Seen(n, orgs, examples.get(key, []))
    return result


def campaign(
    session: Session,
    actor: Actor,
    incident: Incident,
    observables: list[IncidentObservable],
    marks: dict[int, Mark],
) -> list[tuple[Incident, list[str]]]:
    """Open incidents of other organisations sharing an external indicator with ``incident``
    (newest first, at most :data:`MAX_CAMPAIGN`), each with the shared values."""
    values = _external(observables, marks)
    if not values:
        return []
    io = IncidentObservable
    others = (
        select(io.incident_id)
        .join(Incident, Incident.id == io.incident_id)
        .where(
            io.value.in_(values),
            Incident.organisation_id != incident.organisation_id,
            Incident.status.in_(_OPEN),
            visible(actor),
        )
        .group_by(io.incident_id)
        .order_by(io.incident_id.desc())
        .limit(MAX_CAMPAIGN)
        .subquery()
    )
    query = (
        select(Incident, io.value)
        .join(io, io.incident_id == Incident.id)
        .where(Incident.id.in_(select(others.c.incident_id)), io.value.in_(values))
        .order_by(Incident.received_at.desc(), Incident.id.desc(), io.id)
    )
    shared: dict[int, tuple[Incident, list[str]]] = {}
    for other, value in session.execute(query):
        shared.setdefault(other.id, (other, []))[1].append(value)
    return list(shared.values())


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
    values = list(by_value)[:MAX_VALUES]
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
