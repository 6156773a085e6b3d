"""Vigie's TAXII 2.1 collections, read (Flask-free): one per sharing level, never RED.

Each collection holds the objects that leave at exactly its level (the strictest of the labels
each carries, :func:`incidents.sharing.shareable.effective`):

* the level's TLP 2.0 ``marking-definition`` and the CERT's ``identity`` (they are referred to);
* an ``indicator`` per shareable observable: of an incident neither rejected nor merged away,
  of a type with a STIX pattern (not a CVE), on no warning list (known-benign values are not
  indicators); the same object, id and version as in the incident's STIX export;
* a ``sighting`` per match of such an incident's observable with a feed indicator, labelled with
  the feed indicator's TLP too (RED feed indicators never leave);
* the objects other slices published at the level (:mod:`incidents.sharing.published`): each
  published bulletin's ``report``, ``vulnerability`` and ``indicator`` objects, every revision a
  new version (``match[version]``: ``last`` by default), for CERT staff, any account at CLEAR and
  GREEN, and at AMBER levels the accounts of the bulletin's concerned organisations only.

Who reads what (:class:`~incidents.sharing.shareable.Audience`): CERT staff every collection in
full; an account of a constituent the CLEAR and GREEN collections in full (the community), and
in the AMBER and AMBER+STRICT collections only what its own organisation reported (an analyst's
own lead excluded), without sightings of the CERT's AMBER+STRICT intelligence.

Order: date added (observable ``created_at``, match ``matched_at``, a published object's
``date_added``), then source, then row;
pages continue from a keyset cursor over the indexes ``ix_incident_observables_tlp_created``
(label, created_at, id) and ``ix_incident_matches_matched_at_id`` (migration 0027).

Known limit: an observable labelled *less* strictly than its incident (or than the incident a
merge brought it from) would leave at the stricter label; the TAXII server does not serve it
(it stays in the incident's STIX export, marked at that label). Labels follow the incident's
when an analyst changes them, so such observables are the exception; never serving them keeps
every page an ordered walk of one index range.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    Text,
    and_,
    cast,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from core.identity.models import Organisation
from core.markings import Tlp
from feeds.models import Indicator
from incidents.access import in_centres
from incidents.intel.models import IncidentMatch
from incidents.models import Incident, IncidentObservable, IncidentStatus, ShareMode
from incidents.sharing import stix_objects as so
from incidents.sharing.export import sighting_of
from incidents.sharing.published import published_rows
from incidents.sharing.shareable import CERT_TO_CLIENTS, Audience, allowed_up_to, sectors
from incidents.sharing.taxii_params import Cursor, Query

STATIC, INDICATORS, SIGHTINGS, PUBLISHED = 0, 1, 2, 3  # source ranks, in the collection's order
MARKINGS_SINCE = dt.datetime(2022, 10, 1, tzinfo=dt.UTC)  # the TLP 2.0 objects' date
ANALYST_ONLY = '["analyst"]'  # IncidentObservable.sources of an analyst's own lead
AMBER_LEVELS = (Tlp.AMBER, Tlp.AMBER_STRICT)  # where a reader gets only its own share


@dataclass(frozen=True)
class TaxiiCollection:
    id: str
    alias: str
    level: Tlp
    title: str
    description: str


def _collection(level: Tlp, slug: str) -> TaxiiCollection:
    ident = str(uuid.uuid5(so.VIGIE_NAMESPACE, f"taxii-collection/{slug}"))
    return TaxiiCollection(
        ident,
        f"vigie-{slug}",
        level,
        f"Vigie indicators, sightings and bulletins, {level.value}",
        f"Indicators from the observables of incidents reported to the CERT, sightings of feed "
        f"indicators in them, and the CERT's published bulletins (report, vulnerabilities, "
        f"indicators), shared at {level.value} (never RED).",
    )


COLLECTIONS = (
    _collection(Tlp.CLEAR, "tlp-clear"),
    _collection(Tlp.GREEN, "tlp-green"),
    _collection(Tlp.AMBER, "tlp-amber"),
    _collection(Tlp.AMBER_STRICT, "tlp-amber-strict"),
)


def find_collection(ident: str) -> TaxiiCollection | None:
    return next((c for c in COLLECTIONS if c.id == ident), None)


@dataclass(frozen=True)
class Entry:
    """One object of a collection, with where it sits in the collection's order."""

    date_added: dt.datetime
    rank: int
    row: int
    obj: so.Obj

    @property
    def version(self) -> str:
        return str(self.obj.get("modified") or self.obj["created"])

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.date_added, self.rank, self.row)


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    more: bool


@dataclass(frozen=True)
class _Reading:
    """One request: who reads which collection, with which filters."""

    audience: Audience
    collection: TaxiiCollection
    query: Query
    ns: uuid.UUID
    producer: so.Obj
    producer_name: str

    @property
    def common(self) -> so.Common:
        return so.Common(self.ns, self.producer["id"], self.producer_name, self.collection.level)

    def wants(self, kind: str) -> bool:
        return self.query.types is None or kind in self.query.types


def read_page(
    session: Session,
    audience: Audience,
    collection: TaxiiCollection,
    query: Query,
    *,
    producer: so.Producer,
) -> Page:
    """One page of ``collection`` as ``audience`` may read it, made by ``producer``."""
    reading = _Reading(audience, collection, query, producer.ns, producer.identity(), producer.name)
    if not query.spec_ok:
        return Page([], False)
    found = [
        *_static(reading),
        *_indicators(session, reading),
        *_sightings(session, reading),
        *_published(session, reading),
    ]
    found.sort(key=lambda e: (e.date_added, e.rank, e.row))
    return Page(found[: query.limit], len(found) > query.limit)


# ---------------------------------------------------------------- the fixed objects
def _static(reading: _Reading) -> Iterator[Entry]:
    level = reading.collection.level
    fixed = [
        Entry(MARKINGS_SINCE, STATIC, 0, so.marking_object(level)),
        Entry(so.PRODUCER_SINCE, STATIC, 1, reading.producer),
    ]
    query = reading.query
    for entry in fixed:
        if not reading.wants(entry.obj["type"]):
            continue
        if query.ids is not None and entry.obj["id"] not in query.ids:
            continue
        if query.added_after is not None and entry.date_added <= query.added_after:
            continue
        if query.after is not None and _key(entry.cursor) <= _key(query.after):
            continue
        if query.versions is not None and not any(
            so.timestamp(v) == entry.version for v in query.versions
        ):
            continue
        yield entry


def _key(cursor: Cursor) -> tuple[dt.datetime, int, int]:
    return (cursor.date_added, cursor.rank, cursor.row)


# ---------------------------------------------------------------- scope and keyset
Origin = aliased(Incident, name="origin")


def _scope(
    reading: _Reading, *labels: SQLColumnExpression[Tlp], own_in_sql: bool = True
) -> list[ColumnElement[bool]]:
    """Conditions on an observable (and the feed indicator's label, for sightings) for the
    object to leave at exactly the collection's level, to this reader (``own_in_sql``: with the
    "own organisation's reports only" rule of AMBER levels for constituents; else the caller
    applies :func:`_own`)."""
    level = reading.collection.level
    allowed = [t.value for t in allowed_up_to(level)]
    carried = [Incident.tlp, IncidentObservable.tlp, *labels]
    conditions = [
        Incident.status.not_in([IncidentStatus.REJECTED, IncidentStatus.DUPLICATE]),
        *(label.in_(allowed) for label in carried),
        or_(IncidentObservable.origin_incident_id.is_(None), Origin.tlp.in_(allowed)),
        or_(*(label == level.value for label in [*carried, Origin.tlp])),
    ]  # (the last is implied for indicators, whose observable's own label is the level)
    centres = reading.audience.centres
    if reading.audience.staff and centres is not None and level in AMBER_LEVELS:
        # an analyst of a sectoral centre: the AMBER objects of the incidents it sees only
        conditions.append(in_centres(centres, ShareMode.READ, ShareMode.WORK))
    if own_in_sql and _restricted(reading):
        source = func.coalesce(Origin.organisation_id, Incident.organisation_id)
        conditions += [
            source == reading.audience.organisation_id,
            cast(IncidentObservable.sources, Text) != ANALYST_ONLY,
        ]
    return conditions


def _restricted(reading: _Reading) -> bool:
    """A constituent's account reading an AMBER level: only its own organisation's reports."""
    return not reading.audience.staff and reading.collection.level in AMBER_LEVELS


def _own(reading: _Reading, holder: int, origin: int | None, sources: list[str] | None) -> bool:
    """:func:`_scope`'s organisation rule in Python (a coalesce in SQL misleads PostgreSQL's
    planner into sorting every row of the level)."""
    source = origin if origin is not None else holder
    return source == reading.audience.organisation_id and list(sources or []) != ["analyst"]


def _keyset(
    reading: _Reading,
    rank: int,
    added: SQLColumnExpression[dt.datetime],
    row: SQLColumnExpression[int],
) -> list[ColumnElement[bool]]:
    query, found = reading.query, []
    if query.added_after is not None:
        found.append(added > query.added_after)
    cursor = query.after
    if cursor is not None:
        if rank > cursor.rank:
            found.append(added >= cursor.date_added)
        elif rank < cursor.rank:
            found.append(added > cursor.date_added)
        else:
            found.append(tuple_(added, row) > tuple_(cursor.date_added, cursor.row))
    if query.versions is not None:  # versions are millisecond timestamps of the date added
        milli = dt.timedelta(milliseconds=1)
        found.append(or_(*(and_(added >= v, added < v + milli) for v in _floor(query.versions))))
    return found


def _floor(versions: Iterable[dt.datetime]) -> list[dt.datetime]:
    return [v.replace(microsecond=v.microsecond // 1000 * 1000) for v in versions]


def _rows(reading: _Reading, kind: str, family: str) -> set[int] | None:
    """The rows ``match[id]`` names among objects of ``kind`` (``None``: no id filter)."""
    if reading.query.ids is None:
        return None
    found = (so.row_of(i, kind, reading.ns, family) for i in reading.query.ids)
    return {row for row in found if row is not None}


# ---------------------------------------------------------------- indicators
def _indicators(session: Session, reading: _Reading) -> Iterator[Entry]:
    """The collection's indicators, walked in order on ``ix_incident_observables_tlp_created``
    (the observable's own label leads: an observable leaves at its own level, under incidents
    no stricter; one labelled *less* strictly than its incident is not served here, see the
    module). Warning-listed values are skipped in Python, batch after batch: a JSON test in
    SQL would make PostgreSQL misjudge how many rows qualify and sort the whole table; so would
    the organisation rule of a constituent's AMBER pages (:func:`_own`)."""
    rows = _rows(reading, "indicator", "observable")
    if not reading.wants("indicator") or rows == set():
        return
    obs, level = IncidentObservable, reading.collection.level
    query = (
        select(
            obs.id,
            obs.type,
            obs.value,
            obs.created_at,
            obs.warning_lists,
            Incident.organisation_id,
            Origin.organisation_id,
            obs.sources,
        )  # fmt: skip
        .join(Incident, Incident.id == obs.incident_id)
        .outerjoin(Origin, Origin.id == obs.origin_incident_id)
        .where(
            obs.tlp == level.value,
            *_scope(reading, own_in_sql=False),
            obs.type.in_(sorted(so.INDICATOR_TYPES)),
            *_keyset(reading, INDICATORS, obs.created_at, obs.id),
            obs.id.in_(rows) if rows is not None else true(),
        )
        .order_by(obs.created_at, obs.id)
    )
    common, wanted, restricted = reading.common, reading.query.limit + 1, _restricted(reading)
    batch = wanted * (5 if restricted else 1)
    page = query
    while wanted > 0:
        found = session.connection().execute(page.limit(batch)).all()
        for row_id, kind, value, created, listed, holder, origin, sources in found:
            if listed:
                continue  # known-benign: not an indicator
            if restricted and not _own(reading, holder, origin, sources):
                continue
            wanted -= 1
            yield Entry(
                created, INDICATORS, row_id, so.indicator(common, row_id, kind, value, created)
            )
            if not wanted:
                return
        if len(found) < batch:
            return
        last = found[-1]
        page = query.where(tuple_(obs.created_at, obs.id) > tuple_(last[3], last[0]))


# ---------------------------------------------------------------- sightings
@functools.cache
def _where(ns: uuid.UUID, kind: str, sector: str | None) -> str:
    return str(so.sector_identity(ns, sectors(kind, sector))["id"])


def _sightings(session: Session, reading: _Reading) -> Iterator[Entry]:
    rows = _rows(reading, "sighting", "match")
    if not reading.wants("sighting") or rows == set():
        return
    match, obs = IncidentMatch, IncidentObservable
    source_org = func.coalesce(Origin.organisation_id, Incident.organisation_id)
    feed_labels = allowed_up_to(Tlp.AMBER_STRICT if reading.audience.staff else CERT_TO_CLIENTS)
    query = (
        select(
            match.id,
            match.matched_at,
            match.observable_id,
            Indicator.stix_id,
            Indicator.feed_id,
            Indicator.source_ref,
            Organisation.kind,
            Organisation.sector,
        )  # fmt: skip
        .join(obs, obs.id == match.observable_id)
        .join(Incident, Incident.id == obs.incident_id)
        .outerjoin(Origin, Origin.id == obs.origin_incident_id)
        .join(Indicator, Indicator.id == match.indicator_id)
        .join(Organisation, Organisation.id == source_org)
        .where(
            *_scope(reading, Indicator.tlp),
            Indicator.tlp.in_([t.value for t in feed_labels]),
            *_keyset(reading, SIGHTINGS, match.matched_at, match.id),
            match.id.in_(rows) if rows is not None else true(),
        )
        .order_by(match.matched_at, match.id)
    )
    common, ns = reading.common, reading.ns
    for (
        row_id,
        matched_at,
        observable_id,
        stix_id,
        feed_id,
        ref,
        kind,
        sector,
    ) in session.connection().execute(query.limit(reading.query.limit + 1)):
        obj = so.sighting(
            common,
            row_id,
            sighting_of(ns, stix_id, feed_id, ref),
            matched_at,
            observed_refs=[so.row_id("observed-data", ns, "observable", observable_id)],
            where_refs=[_where(ns, str(kind), sector)],
        )
        yield Entry(matched_at, SIGHTINGS, row_id, obj)


# ---------------------------------------------------------------- published objects
def _published(session: Session, reading: _Reading) -> Iterator[Entry]:
    level, query = reading.collection.level, reading.query
    for date_added, row, body in published_rows(session, reading.audience, level, query, PUBLISHED):
        yield Entry(date_added, PUBLISHED, row, body)
