"""The demo incidents met the demo intelligence: their sightings (use case, Flask-free).

``cert demo`` seeds the feeds slice first (the ``demo-intel`` feed, :mod:`feeds.demo`), then the
incidents slice: its demo reports, then :func:`match_demo_incidents`, which matches the
observables of every demo incident (``source_ref`` ``DEMO-…``) against the indicator index
(:func:`feeds.index.lookup.match_observables`) and records what is new through
:func:`incidents.intel.sightings.record_matches` (``found_by`` retro-hunt: the intelligence came
after the reports). Idempotent: a pair already recorded is skipped, so a second run adds nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.clock import Clock
from core.identity.authz import Actor
from feeds.index.lookup import match_observables
from incidents.demo.reports import DEMO_PREFIX
from incidents.intel.models import FoundBy
from incidents.intel.sightings import record_matches
from incidents.models import Incident


def match_demo_incidents(session: Session, actor: Actor, clock: Clock) -> int:
    """Record the demo incidents' new matches; how many were recorded."""
    now = clock.now()
    incidents = session.scalars(
        select(Incident)
        .where(Incident.source_ref.like(f"{DEMO_PREFIX}%"))
        .options(selectinload(Incident.observables))
        .order_by(Incident.id)
    ).all()
    recorded = 0
    for incident in incidents:
        observables = list(incident.observables)
        found = match_observables(session, [(o.type, o.value) for o in observables], now=now)
        pairs = [(o, m) for o, m in zip(observables, found, strict=True) if m]
        if pairs:
            new = record_matches(
                session, incident, pairs, found_by=FoundBy.RETROHUNT, actor=actor, now=now
            )
            recorded += len(new)
    return recorded
