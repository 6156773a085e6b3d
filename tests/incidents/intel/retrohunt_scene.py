"""New intelligence arriving as a feed run does (the real store, then ``feed.indicators_changed``
in the same transaction), and what the retro-hunt left behind."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.events import Event, record_event
from core.identity.authz import Actor
from feeds.events import FeedEventName, IndicatorsChanged
from feeds.index.store import store_records
from feeds.models import FeedRun, RunStatus, RunTrigger
from feeds.rules.keys import index_value
from feeds.rules.records import IndicatorRecord, Parsed
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident, IncidentEvent
from tests.kit import intel

FEED_ACTOR = Actor.system("scheduler:test")


def record(kind: str, value: str, ref: str | None = None, **extra: Any) -> IndicatorRecord:
    return IndicatorRecord(
        source_ref=ref or f"{kind}:{value}", values=(index_value(kind, value),), **extra
    )


def arrive(
    session: Session, clock: FrozenClock, *records: IndicatorRecord, feed_name: str = "abuse-feed"
) -> int:
    """One feed run storing ``records`` and recording its event; the event's id."""
    feed = intel.feed(session, feed_name)
    started = clock.now()
    run = FeedRun(
        feed_id=feed.id,
        trigger=RunTrigger.SCHEDULE,
        status=RunStatus.SUCCEEDED,
        started_at=started,
        finished_at=started,
    )
    session.add(run)
    session.flush()
    counts = store_records(session, feed, Parsed("test", indicators=list(records)), now=started)
    payload = IndicatorsChanged(
        feed_id=feed.id, run_id=run.id, since=started, new=counts.new, updated=counts.updated
    )
    event = Event.of(
        FeedEventName.INDICATORS_CHANGED, payload, aggregate=("feed", feed.id), actor=FEED_ACTOR
    )
    return record_event(session, event, clock=clock)


def hunted(session: Session, incident: Incident) -> list[tuple[str, str, str]]:
    """The incident's retro-hunt sightings: (observable value, why, stored value met)."""
    rows = session.scalars(
        select(IncidentMatch)
        .where(
            IncidentMatch.incident_id == incident.id,
            IncidentMatch.found_by == FoundBy.RETROHUNT,
        )
        .order_by(IncidentMatch.id)
    )
    return sorted((m.observable.value, m.why, m.matched) for m in rows)


def intel_lines(session: Session, incident: Incident) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "intel_match")
            .order_by(IncidentEvent.id)
        )
    )


def days_ago(clock: FrozenClock, days: float) -> dt.datetime:
    return clock.now() - dt.timedelta(days=days)
