"""Enrichment on arrival: an incident's new observables matched against the indicator index in
the caller's transaction (Flask-free use case).

Intake (web form, API, e-mail: one service) calls :func:`enrich` for a new incident, the
workspace for an observable an analyst adds. Observables on a MISP warning list are skipped
(known-benign); the others are looked up in one batch (:func:`feeds.index.lookup.
match_observables`: one query per observable type, never one per observable), the new
sightings recorded (:mod:`incidents.intel.sightings`) and the attention rule applied
(:mod:`incidents.intel.attention`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from feeds.index.lookup import Match, match_observables
from incidents.intel.attention import apply_attention
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.intel.sightings import record_matches
from incidents.models import Incident, IncidentObservable
from incidents.settings import IntakeSettings


def enrich(
    session: Session,
    incident: Incident,
    observables: Sequence[IncidentObservable],
    *,
    found_by: FoundBy,
    actor: Actor,
    clock: Clock,
    settings: IntakeSettings,
) -> list[IncidentMatch]:
    """Match ``observables`` of ``incident`` and record what is new; the new sightings."""
    candidates = [o for o in observables if not o.warning_lists]
    if not candidates:
        return []
    now = clock.now()
    results = match_observables(session, [(o.type, o.value) for o in candidates], now=now)
    found: list[tuple[IncidentObservable, Sequence[Match]]] = [
        (o, r) for o, r in zip(candidates, results, strict=True) if r
    ]
    if not found:
        return []
    new = record_matches(session, incident, found, found_by=found_by, actor=actor, now=now)
    if new:
        apply_attention(session, incident, new, actor=actor, clock=clock, settings=settings)
    return new
