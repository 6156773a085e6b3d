"""Retro-hunt: recent incidents' observables matched again when new intelligence arrives
(Flask-free use case; flushes, never commits).

:func:`hunt` takes one feed run's changes — the indicators of ``feed_id`` whose ``updated_at``
is at or after ``since`` and that are live at ``now`` (not revoked, detecting, not past
``valid_until``: :func:`feeds.index.lookup.live`) — and the observables of the incidents
received at or after ``window_start`` (``CERT_RETROHUNT_DAYS``), in one set-based pass:

1. exact values in one SQL join: the run's ``indicator_values`` with ``incident_observables``
   on ``(value, type)`` (index ``ix_incident_observables_value``), the incidents of the window;
2. networks, parent domains and URL hosts in memory (:mod:`incidents.intel.hunting`, the index's
   own key rules) over the window's observables of the types that can meet the new values
   otherwise than exactly — read only when the run brought networks, domains or addresses;
3. pairs already recorded are dropped, then each incident's new matches go through
   :func:`incidents.intel.sightings.record_matches` (``found_by=retrohunt``): the sighting rows,
   one internal timeline line, an audit row and ``incident.intel_matched`` — which notifies the
   assignee (:mod:`incidents.notifications.handlers`).

Observables on a MISP warning list (known-benign) never match. Running it again for the same run
adds nothing (the pairs are unique): a redelivered event is harmless.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, String, cast, select
from sqlalchemy.orm import Session, lazyload

from core.clock import FrozenClock
from core.identity.authz import Actor
from feeds.index.lookup import Match, live
from feeds.models import Indicator, IndicatorValue
from feeds.rules.keys import Why
from incidents.intel import hunting
from incidents.intel.attention import apply_attention
from incidents.intel.hunting import Hit, NewValues, Seen
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.intel.sightings import record_matches
from incidents.models import Incident, IncidentObservable
from incidents.settings import IntakeSettings

BATCH = 500  # ids per IN
# the warning lists as stored text: the window's observables are many, and an empty JSON list
# needs no decoding to be known empty
_LISTS = cast(IncidentObservable.warning_lists, String)
_NO_LIST = frozenset({None, "", "[]", "null"})
ACTOR = Actor.system("retrohunt")


@dataclass(frozen=True)
class HuntResult:
    indicators: int  # live indicators the run changed
    observables: int  # observables of the window read for the in-memory pass
    matches: int  # new sightings recorded
    incidents: int  # incidents with new sightings


def hunt(
    session: Session,
    *,
    feed_id: int,
    since: dt.datetime,
    window_start: dt.datetime,
    now: dt.datetime,
    actor: Actor = ACTOR,
    settings: IntakeSettings | None = None,
) -> HuntResult:
    """Match the run's new indicators against the window's observables and record what is new
    (see the module's steps)."""
    changed = _changed(feed_id, since, now)
    values = _new_values(session, changed)
    if not values:
        return HuntResult(0, 0, 0, 0)
    indicators = len({i for ids in values.ids.values() for i in ids})
    hits: list[Hit] = list(_exact(session, changed, window_start))
    types = values.indirect_types()
    window = list(_window(session, window_start, types)) if types else []
    hits.extend(hunting.indirect(values, window))
    known = _known(session, changed)
    fresh = [
        hit for hit in hunting.strongest(hits) if (hit.observable_id, hit.indicator_id) not in known
    ]
    recorded = _record(session, fresh, actor=actor, now=now, settings=settings or IntakeSettings())
    return HuntResult(indicators, len(window), recorded, len({h.incident_id for h in fresh}))


def _changed(feed_id: int, since: dt.datetime, now: dt.datetime) -> Select[int, str, str]:
    """The index values of the live indicators the run changed (``ix_indicators_updated_at``)."""
    return (
        select(IndicatorValue.indicator_id, IndicatorValue.kind, IndicatorValue.value)
        .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
        .where(Indicator.feed_id == feed_id, Indicator.updated_at >= since, *live(now))
    )


def _new_values(session: Session, changed: Select[int, str, str]) -> NewValues:
    return NewValues(session.execute(changed).all())


def _exact(
    session: Session, changed: Select[int, str, str], window_start: dt.datetime
) -> Iterator[Hit]:
    """Observables of the window equal to a new value: one join on ``(value, type)``."""
    new = changed.subquery()
    query = (
        select(
            IncidentObservable.id,
            IncidentObservable.incident_id,
            new.c.indicator_id,
            new.c.value,
            IncidentObservable.warning_lists,
        )
        .join(
            IncidentObservable,
            (IncidentObservable.value == new.c.value) & (IncidentObservable.type == new.c.kind),
        )
        .join(Incident, Incident.id == IncidentObservable.incident_id)
        .where(Incident.received_at >= window_start)
    )
    for observable_id, incident_id, indicator_id, value, benign in session.execute(query):
        if not benign:
            yield Hit(observable_id, incident_id, indicator_id, value, Why.EXACT)


def _window(session: Session, window_start: dt.datetime, types: Sequence[str]) -> Iterator[Seen]:
    """The window's observables of ``types`` not on a warning list (``ix_incidents_received_at``
    then the observables' ``(incident_id, type, value)`` index)."""
    query = (
        select(
            IncidentObservable.id,
            IncidentObservable.incident_id,
            IncidentObservable.type,
            IncidentObservable.value,
            _LISTS,
        )
        .join(Incident, Incident.id == IncidentObservable.incident_id)
        .where(Incident.received_at >= window_start, IncidentObservable.type.in_(list(types)))
    )
    for observable_id, incident_id, kind, value, lists in session.execute(query):
        if lists in _NO_LIST:
            yield Seen(observable_id, incident_id, kind, value)


def _known(session: Session, changed: Select[int, str, str]) -> set[tuple[int, int]]:
    """(observable, indicator) pairs already recorded for the run's indicators."""
    ids = select(changed.subquery().c.indicator_id).distinct()
    query = select(IncidentMatch.observable_id, IncidentMatch.indicator_id).where(
        IncidentMatch.indicator_id.in_(ids)
    )
    return {(o, i) for o, i in session.execute(query)}


def _record(
    session: Session,
    hits: Sequence[Hit],
    *,
    actor: Actor,
    now: dt.datetime,
    settings: IntakeSettings,
) -> int:
    """Each incident's new matches through :func:`record_matches`, then the attention rule
    (:func:`incidents.intel.attention.apply_attention`, as on arrival); how many were recorded."""
    if not hits:
        return 0
    observables = {
        row.id: row
        for chunk in _chunks({h.observable_id for h in hits})
        for row in session.scalars(
            select(IncidentObservable).where(IncidentObservable.id.in_(chunk))
        )
    }
    indicators = {
        row.id: row
        for chunk in _chunks({h.indicator_id for h in hits})
        for row in session.scalars(select(Indicator).where(Indicator.id.in_(chunk)))
    }
    incidents = {
        row.id: row
        for chunk in _chunks({h.incident_id for h in hits})
        for row in session.scalars(
            select(Incident)
            .where(Incident.id.in_(chunk))
            .options(lazyload(Incident.organisation))  # record_matches reads id and reference
        )
    }
    recorded = 0
    clock = FrozenClock(now)
    for incident_id, found in _by_incident(hits, observables, indicators).items():
        incident = incidents[incident_id]
        new = record_matches(
            session, incident, found, found_by=FoundBy.RETROHUNT, actor=actor, now=now
        )
        apply_attention(session, incident, new, actor=actor, clock=clock, settings=settings)
        recorded += len(new)
    return recorded


def _by_incident(
    hits: Iterable[Hit],
    observables: dict[int, IncidentObservable],
    indicators: dict[int, Indicator],
) -> dict[int, list[tuple[IncidentObservable, list[Match]]]]:
    grouped: dict[int, dict[int, list[Match]]] = defaultdict(lambda: defaultdict(list))
    for hit in hits:
        match = Match(indicators[hit.indicator_id], hit.matched, hit.why)
        grouped[hit.incident_id][hit.observable_id].append(match)
    return {
        incident_id: [(observables[o], matches) for o, matches in by_observable.items()]
        for incident_id, by_observable in grouped.items()
    }


def _chunks(ids: set[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), BATCH):
        yield ordered[start : start + BATCH]
