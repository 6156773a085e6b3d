"""Sightings: an incident's observables met indicators of the index (Flask-free use case).

:func:`record_matches` is called on arrival (intake), when an analyst adds an observable and by
retro-hunt. It stores each (observable, indicator) pair once — the unique constraint of
``incident_matches`` makes it idempotent, also against a concurrent writer (``INSERT … ON
CONFLICT DO NOTHING``) — and, when something new was found, writes one internal timeline line
(kind ``intel_match``, never public: reporters never see intelligence), its audit row and the
domain event ``incident.intel_matched`` (ids only), all in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import audit
from core.db import is_postgres
from core.identity.authz import Actor
from feeds.index.lookup import Match
from incidents import events
from incidents.actions import IncidentAction
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident, IncidentEvent, IncidentObservable

_MATCHES = IncidentMatch.metadata.tables["incident_matches"]
_EVENTS = IncidentEvent.metadata.tables["incident_events"]
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)


class _At:
    """The clock of one instant (the services below take ``now``)."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        return self._now


def record_matches(
    session: Session,
    incident: Incident,
    found: Sequence[tuple[IncidentObservable, Sequence[Match]]],
    *,
    found_by: FoundBy,
    actor: Actor,
    now: dt.datetime,
) -> list[IncidentMatch]:
    """Store the new (observable, indicator) pairs of ``found`` and return them (persistent,
    with their indicator); pairs already recorded are skipped, nothing is written when none is
    new. Observables on a warning list (known-benign) never raise a match."""
    rows = _new_rows(incident, found, found_by, now)
    if not rows:
        return []
    inserted = _insert(session, rows)
    if not inserted:
        return []
    by_pair = {(o.id, m.indicator.id): (o, m) for o, matches in found for m in matches}
    matches = list(
        session.scalars(
            select(IncidentMatch).where(IncidentMatch.id.in_(inserted)).order_by(IncidentMatch.id)
        )
    )
    lines = [_line(*by_pair[m.observable_id, m.indicator_id]) for m in matches]
    clock = _At(now)
    data: dict[str, Any] = {"found_by": found_by.value, "matches": lines}
    event_id = timeline_line(session, incident, actor, "intel_match", data, now=now)
    ids = [m.id for m in matches]
    audit_after = {"found_by": found_by.value, "matches": ids}
    audit.record(
        session,
        actor,
        IncidentAction.INTEL_MATCH,
        "incident",
        incident.reference,
        clock=clock,
        after=audit_after,
    )
    payload = events.IntelMatched(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=event_id,
        match_ids=ids,
        found_by=found_by.value,
    )
    events.record(
        session, actor, incident, events.IncidentEventName.INTEL_MATCHED, payload, clock=clock
    )
    return matches


def timeline_line(
    session: Session,
    incident: Incident,
    actor: Actor,
    kind: str,
    data: dict[str, Any],
    *,
    now: dt.datetime,
) -> int:
    """One internal (never public) line on the incident's timeline, as one INSERT; its id."""
    values = {
        "incident_id": incident.id,
        "at": now,
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "kind": kind,
        "public": False,
        "data": data,
    }
    return int(session.connection().execute(_INSERT_EVENT, values).scalar_one())


def _new_rows(
    incident: Incident,
    found: Sequence[tuple[IncidentObservable, Sequence[Match]]],
    found_by: FoundBy,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for observable, matches in found:
        if observable.warning_lists:
            continue  # known-benign
        for match in matches:
            rows.setdefault(
                (observable.id, match.indicator.id),
                {
                    "incident_id": incident.id,
                    "observable_id": observable.id,
                    "indicator_id": match.indicator.id,
                    "why": match.why.value,
                    "matched": match.matched,
                    "found_by": found_by.value,
                    "matched_at": now,
                },
            )
    return list(rows.values())


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT the rows, skipping pairs already there; the ids of those inserted, in order."""
    dialect_insert = postgresql.insert if is_postgres(session) else sqlite.insert
    statement = (
        dialect_insert(_MATCHES)
        .on_conflict_do_nothing(index_elements=["observable_id", "indicator_id"])
        .returning(_MATCHES.c.id)
    )
    return list(session.connection().execute(statement, rows).scalars())


def _line(observable: IncidentObservable, match: Match) -> dict[str, Any]:
    """One match as the timeline keeps it (read by staff only: the indicator's words too)."""
    indicator = match.indicator
    return {
        "observable_id": observable.id,
        "type": observable.type,
        "value": observable.value,
        "indicator_id": indicator.id,
        "indicator": indicator.name or indicator.pattern or indicator.source_ref,
        "feed": indicator.feed.name,
        "confidence": indicator.confidence,
        "tlp": indicator.tlp.value,
        "why": match.why.value,
        "matched": match.matched,
    }


def matches_of(session: Session, incident_id: int) -> list[IncidentMatch]:
    """The incident's sightings, with their observable and indicator (the file's panel)."""
    return list(
        session.scalars(
            select(IncidentMatch)
            .where(IncidentMatch.incident_id == incident_id)
            .order_by(IncidentMatch.id)
        )
    )
