"""Sightings (:func:`incidents.intel.sightings.record_matches`) on both databases: new pairs
only, one internal timeline line, the domain event with ids only, known-benign values skipped."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.events.store import DomainEvent
from core.identity.authz import Actor
from feeds.index.lookup import Match, match_observables
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.intel.sightings import record_matches
from incidents.models import Incident, IncidentEvent, IncidentObservable
from tests.kit import intel
from tests.kit.factories import INFECTED_HOST, report
from tests.kit.world import World

SYSTEM = Actor.system("retrohunt")


def _found(
    session: Session, incident: Incident, clock: FrozenClock
) -> list[tuple[IncidentObservable, list[Match]]]:
    observables = list(incident.observables)
    results = match_observables(session, [(o.type, o.value) for o in observables], now=clock.now())
    return list(zip(observables, results, strict=True))


def test_new_pairs_only_one_line_and_one_event(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    incident = report(db_session, clock, world.reporter, INFECTED_HOST)
    db_session.query(IncidentMatch).delete()  # whatever arrival found: start from none
    intel.indicator(db_session, "ipv4", "198.51.100.0/24", name="Botnet C2 range", confidence=80)
    intel.indicator(db_session, "ipv4", "198.51.100.23", feed_name="other-feed")
    before = db_session.scalar(select(func.count()).select_from(IncidentEvent))

    first = record_matches(
        db_session,
        incident,
        _found(db_session, incident, clock),
        found_by=FoundBy.RETROHUNT,
        actor=SYSTEM,
        now=clock.now(),
    )
    assert sorted(m.why for m in first) == ["exact", "network"]
    assert {m.found_by for m in first} == {FoundBy.RETROHUNT}
    lines = db_session.scalars(
        select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "intel_match"
        )
    ).all()
    assert len(lines) == 1 and not lines[0].public
    assert {m["feed"] for m in lines[0].data["matches"]} == {"abuse-feed", "other-feed"}
    event = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "incident.intel_matched")
    ).one()
    assert event.payload == {
        "incident_id": incident.id,
        "reference": incident.reference,
        "timeline_event_id": lines[0].id,
        "match_ids": [m.id for m in first],
        "found_by": "retrohunt",
    }
    # again: nothing new, nothing written
    again = record_matches(
        db_session,
        incident,
        _found(db_session, incident, clock),
        found_by=FoundBy.RETROHUNT,
        actor=SYSTEM,
        now=clock.now(),
    )
    assert again == []
    after = db_session.scalar(select(func.count()).select_from(IncidentEvent))
    assert after == before + 1


def test_known_benign_observables_never_match(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    incident = report(db_session, clock, world.reporter, INFECTED_HOST)
    intel.indicator(db_session, "ipv4", "198.51.100.23", ref="later")
    observable = incident.observables[0]
    observable.warning_lists = ["Some benign list"]
    found = _found(db_session, incident, clock)
    assert found[0][1]  # the index has it
    assert (
        record_matches(
            db_session, incident, found, found_by=FoundBy.RETROHUNT, actor=SYSTEM, now=clock.now()
        )
        == []
    )
