"""Enrichment on arrival (intake) and when an analyst adds an observable, through the real
intake service, on both databases: sightings with their context, known-benign values, and the
attention rule (:mod:`incidents.intel.attention`)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from incidents.intel.attention import raised
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.models import Incident, IncidentEvent, IncidentStatus, Priority
from incidents.workspace.observables_admin import add_observable
from incidents.workspace.workflow import set_priority
from tests.kit import intel
from tests.kit.factories import MINIMAL, PHISHING, SETTINGS, report
from tests.kit.world import World


def _lines(session: Session, incident: Incident, kind: str) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent).where(
                IncidentEvent.incident_id == incident.id, IncidentEvent.kind == kind
            )
        )
    )


def _matches(session: Session, incident: Incident) -> list[IncidentMatch]:
    return list(
        session.scalars(select(IncidentMatch).where(IncidentMatch.incident_id == incident.id))
    )


def test_a_report_is_matched_on_arrival_and_a_strong_match_raises_it(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    intel.indicator(db_session, "domain", "webmail-interieur.com", name="Phish kit", confidence=85)
    intel.indicator(db_session, "ipv4", "185.220.101.0/24", name="Tor exits", confidence=40)
    intel.indicator(  # expired before the report: never matches
        db_session,
        "email",
        "securite@interieur-gov.ma",
        valid_until=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
    )
    incident = report(db_session, clock, world.reporter, PHISHING)  # high × high: P2

    matches = _matches(db_session, incident)
    assert sorted((m.observable.value, m.why, m.found_by) for m in matches) == [
        ("185.220.101.4", "network", FoundBy.ARRIVAL),
        ("https://webmail-interieur.com/login.php", "url-host", FoundBy.ARRIVAL),
        ("webmail-interieur.com", "exact", FoundBy.ARRIVAL),
    ]
    [line] = _lines(db_session, incident, "intel_match")
    assert not line.public and len(line.data["matches"]) == 3
    assert incident.priority == Priority.P1 and incident.priority_reason is None
    [attention] = _lines(db_session, incident, "attention")
    assert not attention.public
    data = dict(attention.data)
    cause = db_session.get_one(IncidentMatch, data.pop("match_id"))
    assert data.pop("value") == cause.observable.value
    assert cause.indicator.name == "Phish kit"
    assert data == {"from": "P2", "to": "P1", "confidence": 85, "indicator": "Phish kit"}
    # the SLA follows the new priority (P1: acknowledge within the hour)
    assert incident.ack_due_at == incident.received_at + dt.timedelta(hours=1)


def test_only_the_first_strong_sighting_raises_and_never_past_a_hand_set_priority(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    intel.indicator(db_session, "domain", "c2.evil.test", confidence=90, ref="one")
    intel.indicator(db_session, "domain", "drop.evil.test", confidence=90, ref="two")
    intel.indicator(db_session, "domain", "third.evil.test", confidence=90, ref="three")
    analyst = world.actor(world.analyst)
    incident = report(db_session, clock, world.reporter, MINIMAL)  # P4 (low × low default)
    start = incident.priority
    add_observable(db_session, analyst, incident, "domain", "c2.evil.test", clock=clock)
    assert incident.priority == raised(
        start, IncidentStatus.NEW, hand_set=False, strong_before=False
    )
    once = incident.priority
    add_observable(db_session, analyst, incident, "domain", "drop.evil.test", clock=clock)
    assert incident.priority == once  # not the first strong sighting
    assert len(_lines(db_session, incident, "attention")) == 1
    assert {m.found_by for m in _matches(db_session, incident)} == {FoundBy.OBSERVABLE}

    other = report(db_session, clock, world.reporter, MINIMAL)
    set_priority(
        db_session, analyst, other, "P3", "Agreed with the ministry", clock=clock, settings=SETTINGS
    )
    add_observable(db_session, analyst, other, "domain", "third.evil.test", clock=clock)
    assert other.priority == Priority.P3  # an analyst's choice wins
    assert len(_matches(db_session, other)) == 1 and not _lines(db_session, other, "attention")


def test_weak_matches_and_closed_incidents_keep_their_priority(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    intel.indicator(db_session, "domain", "weak.evil.test", confidence=69)
    intel.indicator(db_session, "domain", "strong.evil.test", confidence=70)
    analyst = world.actor(world.analyst)
    incident = report(db_session, clock, world.reporter, MINIMAL)
    start = incident.priority
    add_observable(db_session, analyst, incident, "domain", "weak.evil.test", clock=clock)
    assert incident.priority == start
    closed = report(db_session, clock, world.reporter, MINIMAL, state={"status": "closed"})
    add_observable(db_session, analyst, closed, "domain", "strong.evil.test", clock=clock)
    assert closed.priority == start and len(_matches(db_session, closed)) == 1


def test_known_benign_values_are_marked_and_never_match(
    db_session: Session, world: World, clock: FrozenClock
) -> None:
    intel.indicator(db_session, "ipv4", "8.8.8.8", confidence=95)
    intel.indicator(db_session, "ipv4", "104.16.0.0/13", confidence=95)
    incident = report(
        db_session,
        clock,
        world.reporter,
        MINIMAL,
        description="Requêtes vers 8.8.8.8 et vers 104.16.1.1 (Cloudflare).",
    )
    lists = {o.value: o.warning_lists for o in incident.observables}
    assert lists["8.8.8.8"] == ["List of known IPv4 public DNS resolvers"]
    assert lists["104.16.1.1"] == ["List of known Cloudflare IP ranges"]
    assert _matches(db_session, incident) == [] and not _lines(db_session, incident, "attention")
    added = add_observable(
        db_session, world.actor(world.analyst), incident, "ipv4", "8.8.4.4", clock=clock
    )
    assert added.warning_lists and _matches(db_session, incident) == []


@pytest.mark.parametrize(
    ("priority", "status", "hand_set", "before", "expected"),
    [
        (Priority.P4, IncidentStatus.NEW, False, False, Priority.P3),
        (Priority.P3, IncidentStatus.TRIAGED, False, False, Priority.P2),
        (Priority.P2, IncidentStatus.IN_PROGRESS, False, False, Priority.P1),
        (Priority.P1, IncidentStatus.NEW, False, False, None),  # never above P1
        (Priority.P3, IncidentStatus.NEW, True, False, None),  # set by hand
        (Priority.P3, IncidentStatus.NEW, False, True, None),  # raised once already
        (Priority.P3, IncidentStatus.RESOLVED, False, False, None),  # not open
    ],
)
def test_the_attention_rule(
    priority: Priority,
    status: IncidentStatus,
    hand_set: bool,
    before: bool,
    expected: Priority | None,
) -> None:
    assert raised(priority, status, hand_set=hand_set, strong_before=before) == expected
