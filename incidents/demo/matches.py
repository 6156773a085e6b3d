"""The demo incidents meet the demo intelligence: their sightings (use case, Flask-free).

``cert demo`` seeds the feeds slice first (the ``demo-intel`` feed, :mod:`feeds.demo`), then the
incidents slice: its demo reports, each enriched on arrival by intake, then
:func:`match_demo_incidents` for demo incidents reported before the feed existed (an instance
seeded by an earlier version): their observables are matched again through
:func:`incidents.intel.enrichment.enrich` (``found_by`` retro-hunt: the intelligence came after
the reports; known-benign values skipped, the attention rule applied). Idempotent: a pair
already recorded is skipped, so a second run adds nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.clock import Clock
from core.identity.authz import Actor
from incidents.demo.reports import DEMO_PREFIX
from incidents.intel.enrichment import enrich
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident
from incidents.settings import IntakeSettings

DEMO = Incident.source_ref.like(f"{DEMO_PREFIX}%")


def match_demo_incidents(
    session: Session, actor: Actor, clock: Clock, *, settings: IntakeSettings
) -> tuple[int, int]:
    """Record the demo incidents' new matches: (new, all the demo incidents' matches)."""
    incidents = session.scalars(
        select(Incident).where(DEMO).options(selectinload(Incident.observables))
    ).all()
    new = 0
    for incident in sorted(incidents, key=lambda i: i.id):
        found = enrich(
            session, incident, list(incident.observables), found_by=FoundBy.RETROHUNT,
            actor=actor, clock=clock, settings=settings,
        )  # fmt: skip
        new += len(found)
    total = session.scalar(
        select(func.count())
        .select_from(IncidentMatch)
        .join(Incident, Incident.id == IncidentMatch.incident_id)
        .where(DEMO)
    )
    return new, total or 0
