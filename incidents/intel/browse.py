"""The intel pages' read models (Flask-free): indicator search, an indicator with its context and
sightings, an ATT&CK technique with its indicators and incidents. CERT staff only (the adapter
checks); incidents are listed only when the reader may see them (:func:`incidents.access.visible`).

Every list is a keyset page read from an index, never a scan of the index's million rows:

* search by value (``q``): the ``(kind, value)`` index of ``indicator_values``, one range per
  kind — the exact canonical value first, then values starting with ``q`` in value order
  (cursor: the last value row's id);
* no ``q``: indicators newest first (primary key, or ``(feed_id, id)`` with a feed);
* an indicator's sightings: ``incident_matches (indicator_id, id)``, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select, tuple_
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.identity.authz import Actor
from core.markings import Tlp
from feeds.index.lookup import live
from feeds.models import Feed, Indicator, IndicatorValue, IntelObject, IntelRelation
from feeds.rules.observables import ObservableType, canonicalise
from incidents.access import visible
from incidents.intel.models import IncidentMatch
from incidents.models import Incident, IncidentObservable

PAGE = 50
MAX_Q = 2048
KINDS = tuple(kind.value for kind in ObservableType)
CONTEXT_TYPES = ("malware", "intrusion-set", "campaign", "attack-pattern", "threat-actor", "tool")
ATTACK_PATTERN = "attack-pattern"
MAX_RELATED = 200  # objects or indicators listed beside an indicator or a technique


@dataclass(frozen=True)
class Search:
    q: str = ""
    kind: str = ""  # an ObservableType value, or "" for every kind
    feed_id: int | None = None
    tlp: str = ""
    live_only: bool = False


@dataclass
class Row:
    indicator: Indicator
    value: str  # the value that matched the search, or the indicator's first value
    cursor: int  # the keyset cursor after this row


@dataclass
class Page:
    rows: list[Row]
    next_cursor: int | None


def feeds(session: Session) -> list[Feed]:
    return list(session.scalars(select(Feed).order_by(Feed.name)))


def _filters(search: Search, now: dt.datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if search.feed_id is not None:
        where.append(Indicator.feed_id == search.feed_id)
    if search.tlp:
        where.append(Indicator.tlp == search.tlp)
    if search.live_only:
        where.extend(live(now))
    return where


def search_indicators(
    session: Session, search: Search, *, now: dt.datetime, after: int | None = None
) -> Page:
    """A page of indicators (see the module's keyset rules)."""
    if search.q.strip():
        return _by_value(session, search, now, after)
    return _newest(session, search, now, after)


def _newest(session: Session, search: Search, now: dt.datetime, after: int | None) -> Page:
    query = select(Indicator).where(*_filters(search, now)).order_by(Indicator.id.desc())
    if search.kind:
        kinds = select(IndicatorValue.indicator_id).where(IndicatorValue.kind == search.kind)
        query = query.where(Indicator.id.in_(kinds))
    if after is not None:
        query = query.where(Indicator.id < after)
    found = list(session.scalars(query.limit(PAGE + 1)))
    rows = [Row(i, "", i.id) for i in found[:PAGE]]
    _first_values(session, rows)
    return Page(rows, rows[-1].cursor if len(found) > PAGE else None)


def _first_values(session: Session, rows: list[Row]) -> None:
    ids = [row.indicator.id for row in rows]
    if not ids:
        return
    query = (
        select(IndicatorValue.indicator_id, IndicatorValue.value)
        .where(IndicatorValue.indicator_id.in_(ids))
        .order_by(IndicatorValue.id)
    )
    first: dict[int, str] = {}
    for indicator_id, value in session.execute(query):
        first.setdefault(indicator_id, value)
    for row in rows:
        row.value = first.get(row.indicator.id, "")


def _spellings(search: Search) -> dict[str, str]:
    """Per kind searched, the value to look for: its canonical spelling when ``q`` is a whole
    value of that kind (``hxxp://EVIL[.]example`` → ``http://evil.example``), else ``q`` as
    typed (a prefix), trimmed."""
    q = search.q.strip()[:MAX_Q]
    spellings: dict[str, str] = {}
    for kind in [search.kind] if search.kind else KINDS:
        try:
            spellings[kind] = canonicalise(kind, q)
        except ValueError:
            spellings[kind] = q.lower() if kind != ObservableType.URL else q
    return spellings


def _by_value(session: Session, search: Search, now: dt.datetime, after: int | None) -> Page:
    """Exact and prefix matches on ``(kind, value)``, in value order, ``PAGE`` per kind at most,
    merged; the cursor is the last value row's id."""
    start = session.get(IndicatorValue, after) if after is not None else None
    rows: list[tuple[str, int, Indicator]] = []
    for kind, value in sorted(_spellings(search).items()):
        query = (
            select(IndicatorValue.value, IndicatorValue.id, Indicator)
            .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
            .where(
                IndicatorValue.kind == kind,
                IndicatorValue.value >= value,
                IndicatorValue.value < value + "\U0010ffff",
                IndicatorValue.value.startswith(value, autoescape=True),
                *_filters(search, now),
            )
            .order_by(IndicatorValue.value, IndicatorValue.id)
            .limit(PAGE + 1)
        )
        if start is not None and kind < start.kind:
            continue  # this kind's rows all came before the cursor
        if start is not None and kind == start.kind:
            query = query.where(
                tuple_(IndicatorValue.value, IndicatorValue.id) > (start.value, start.id)
            )
        rows.extend((kind + "\x00" + v, i, ind) for v, i, ind in session.execute(query))
    rows.sort(key=lambda r: (r[0], r[1]))
    page = [Row(ind, key.split("\x00", 1)[1], value_id) for key, value_id, ind in rows[:PAGE]]
    return Page(page, page[-1].cursor if len(rows) > PAGE else None)


# ------------------------------------------------------------------ one indicator
@dataclass
class Sighting:
    match: IncidentMatch
    incident: Incident
    observable: IncidentObservable


@dataclass
class IndicatorView:
    indicator: Indicator
    values: list[IndicatorValue]
    objects: list[IntelObject]  # related STIX objects (malware, intrusion sets, techniques…)
    relations: dict[str, str]  # object STIX id → relationship type
    sightings: list[Sighting]
    next_cursor: int | None
    hidden: int = 0  # sightings on this page of incidents the reader may not see
    related: list[dict[str, str]] = field(default_factory=list)  # MISP galaxies, STIX refs


def indicator_view(
    session: Session, actor: Actor, indicator_id: int, *, before: int | None = None
) -> IndicatorView:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise NotFound(f"no indicator {indicator_id}")
    values = list(
        session.scalars(
            select(IndicatorValue)
            .where(IndicatorValue.indicator_id == indicator.id)
            .order_by(IndicatorValue.id)
        )
    )
    objects, relations = _context(session, indicator)
    sightings, next_cursor = _sightings(session, actor, indicator.id, before)
    return IndicatorView(
        indicator,
        values,
        objects,
        relations,
        sightings,
        next_cursor,
        related=[{k: str(v or "") for k, v in r.items()} for r in indicator.related or []],
    )


def _context(session: Session, indicator: Indicator) -> tuple[list[IntelObject], dict[str, str]]:
    """The STIX objects an indicator's relationships name (either way), live ones."""
    if not indicator.stix_id:
        return [], {}
    query = select(IntelRelation).where(
        IntelRelation.revoked.is_(False),
        or_(
            IntelRelation.source_ref == indicator.stix_id,
            IntelRelation.target_ref == indicator.stix_id,
        ),
    )
    relations: dict[str, str] = {}
    for rel in session.scalars(query.limit(MAX_RELATED)):
        other = rel.target_ref if rel.source_ref == indicator.stix_id else rel.source_ref
        relations.setdefault(other, rel.relationship_type)
    if not relations:
        return [], {}
    objects = session.scalars(
        select(IntelObject)
        .where(IntelObject.stix_id.in_(sorted(relations)), IntelObject.revoked.is_(False))
        .order_by(IntelObject.type, IntelObject.name)
    )
    unique = {o.stix_id: o for o in objects}  # one per STIX id, whichever feed holds it
    return list(unique.values()), relations


def _sightings(
    session: Session, actor: Actor, indicator_ids: int | Sequence[int], before: int | None
) -> tuple[list[Sighting], int | None]:
    """Sightings of the indicator(s) on incidents the reader may see, newest first."""
    ids = [indicator_ids] if isinstance(indicator_ids, int) else list(indicator_ids)
    if not ids:
        return [], None
    query = (
        select(IncidentMatch, Incident, IncidentObservable)
        .join(Incident, Incident.id == IncidentMatch.incident_id)
        .join(IncidentObservable, IncidentObservable.id == IncidentMatch.observable_id)
        .where(IncidentMatch.indicator_id.in_(ids), visible(actor))
        .order_by(IncidentMatch.id.desc())
    )
    if before is not None:
        query = query.where(IncidentMatch.id < before)
    found = [Sighting(m, i, o) for m, i, o in session.execute(query.limit(PAGE + 1))]
    more = len(found) > PAGE
    found = found[:PAGE]
    return found, (found[-1].match.id if more else None)


# ------------------------------------------------------------------ ATT&CK techniques
@dataclass
class TechniqueView:
    external_id: str
    objects: list[IntelObject]  # the attack-pattern as each feed holds it
    indicators: list[Indicator]
    sightings: list[Sighting]
    next_cursor: int | None


def technique_view(
    session: Session, actor: Actor, external_id: str, *, before: int | None = None
) -> TechniqueView:
    """An ATT&CK technique (``T1566``, ``T1566.001``): its attack-pattern objects, the indicators
    related to it (directly, or through a malware, tool or intrusion set that uses it) and the
    sightings of those indicators on incidents the reader may see."""
    wanted = external_id.strip().upper()
    objects = list(
        session.scalars(
            select(IntelObject)
            .where(IntelObject.external_id == wanted, IntelObject.type == ATTACK_PATTERN)
            .order_by(IntelObject.id)
        )
    )
    if not objects:
        raise NotFound(f"no ATT&CK technique {wanted}")
    refs = [o.stix_id for o in objects]
    users = select(IntelRelation.source_ref).where(
        IntelRelation.target_ref.in_(refs),
        IntelRelation.revoked.is_(False),
        ~IntelRelation.source_ref.startswith("indicator--"),
    )
    near = or_(IntelRelation.target_ref.in_(refs), IntelRelation.target_ref.in_(users))
    indicator_refs = select(IntelRelation.source_ref).where(
        near, IntelRelation.revoked.is_(False), IntelRelation.source_ref.startswith("indicator--")
    )
    indicators = list(
        session.scalars(
            select(Indicator)
            .where(Indicator.stix_id.in_(indicator_refs))
            .order_by(Indicator.id.desc())
            .limit(MAX_RELATED)
        )
    )
    sightings, next_cursor = _sightings(session, actor, [i.id for i in indicators], before)
    return TechniqueView(wanted, objects, indicators, sightings, next_cursor)


def tlp_names() -> list[str]:
    return [tlp.value for tlp in Tlp]
