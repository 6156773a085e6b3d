"""Retro-hunt on both databases, through the real parts: intelligence stored by the feeds' store
with its ``feed.indicators_changed`` event, the slice's handlers run by the real dispatcher,
the notification e-mail through the outbox to a live SMTP server.

An older incident meets new intelligence (exactly, in a new network, under a new parent domain,
by its URL's host); its assignee is told in the app and by e-mail in their language; expired,
revoked, non-detecting indicators and known-benign observables never match; only the run's own
indicators and only the window's incidents are looked at; a redelivered event adds nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.events.store import DomainEvent, loaded
from core.identity.authz import Actor
from feeds.index.lookup import Match
from feeds.rules.keys import Why
from incidents.intel import handlers
from incidents.intel.models import FoundBy, IncidentMatch
from incidents.intel.retrohunt import hunt
from incidents.intel.sightings import record_matches
from incidents.models import Priority
from incidents.notifications import jobs
from incidents.notifications.models import NotificationKind
from incidents.settings import IntakeSettings
from incidents.workspace import workflow
from tests.incidents.intel.retrohunt_scene import arrive, days_ago, hunted, intel_lines, record
from tests.incidents.notifications.scene import (
    Cert,
    commit_and_deliver,
    drain_to,
    job_context,
    kinds,
    make_cert,
    text_of,
)
from tests.kit import intel
from tests.kit.events import slice_settings
from tests.kit.factories import INFECTED_HOST, report
from tests.kit.smtp import SmtpServer

Kind = NotificationKind
IP = "198.51.100.23"  # INFECTED_HOST's observable


@pytest.fixture
def cert(db_session: Session, clock: FrozenClock) -> Cert:
    return make_cert(db_session, clock)


def test_new_intel_meets_an_older_incident_and_its_assignee_is_told(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
    smtp: SmtpServer,
) -> None:
    incident = report(db_session, clock, cert.reporter, INFECTED_HOST)
    workflow.assign(db_session, Actor.for_user(cert.lead), incident, cert.analyst, clock=clock)
    cert.analyst.locale = "fr"
    commit_and_deliver(db_session, session_factory, clock)
    clock.advance(days=3)
    arrive(db_session, clock, record("ipv4", IP, name="Emotet C2", confidence=90))
    commit_and_deliver(db_session, session_factory, clock)  # the retro-hunt
    commit_and_deliver(db_session, session_factory, clock)  # its incident.intel_matched
    assert hunted(db_session, incident) == [(IP, "exact", IP)]
    [line] = intel_lines(db_session, incident)
    assert not line.public and line.data["found_by"] == "retrohunt"
    assert line.data["matches"][0]["indicator"] == "Emotet C2"
    assert kinds(db_session, cert.analyst) == [Kind.ASSIGNED, Kind.INTEL_MATCH]
    assert Kind.INTEL_MATCH not in kinds(db_session, cert.lead)  # there is an assignee
    assert Kind.INTEL_MATCH not in kinds(db_session, cert.on_duty)
    dict(jobs.send_mail(job_context(session_factory, clock)))
    db_session.commit()
    mails = [m for m in drain_to(smtp, session_factory, clock) if cert.analyst.email in m.rcpt_tos]
    assert any(
        f"Nouvelle correspondance de renseignement sur la menace pour {incident.reference}"
        in text_of(m)
        for m in mails
    )
    # the same event delivered again (a retried delivery) adds nothing
    stored = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "feed.indicators_changed")
    ).one()
    handlers.retrohunt(db_session, loaded(stored), IntakeSettings())
    db_session.flush()
    assert hunted(db_session, incident) == [(IP, "exact", IP)]
    assert len(intel_lines(db_session, incident)) == 1


def test_networks_parent_domains_and_url_hosts_match(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(
        db_session,
        clock,
        cert.reporter,
        INFECTED_HOST,
        observables=[
            {"type": "domain", "value": "cdn.a.evil-corp.example"},
            {"type": "url", "value": "https://c2.bad-host.example/gate.php"},
            {"type": "url", "value": "http://203.0.113.77:8080/x"},
            {"type": "domain", "value": "harmless.example"},
        ],
    )
    commit_and_deliver(db_session, session_factory, clock)
    clock.advance(days=1)
    arrive(
        db_session,
        clock,
        record("ipv4", "198.51.100.0/24", ref="net"),
        record("domain", "evil-corp.example"),
        record("domain", "bad-host.example"),
        record("ipv4", "203.0.113.0/25", ref="net2"),
        record("domain", "other.example"),
    )
    commit_and_deliver(db_session, session_factory, clock)
    assert hunted(db_session, incident) == [
        (IP, "network", "198.51.100.0/24"),
        ("cdn.a.evil-corp.example", "parent-domain", "evil-corp.example"),
        ("http://203.0.113.77:8080/x", "url-host", "203.0.113.0/25"),
        ("https://c2.bad-host.example/gate.php", "url-host", "bad-host.example"),
    ]
    [line] = intel_lines(db_session, incident)
    assert len(line.data["matches"]) == 4


def test_expired_revoked_non_detecting_and_benign_never_match(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(
        db_session,
        clock,
        cert.reporter,
        INFECTED_HOST,
        observables=[
            {"type": "ipv4", "value": "8.8.8.8"},
            {"type": "domain", "value": "old.example"},
            {"type": "domain", "value": "gone.example"},
            {"type": "domain", "value": "noisy.example"},
        ],
    )
    [benign] = [o for o in incident.observables if o.value == "8.8.8.8"]
    benign.warning_lists = ["List of known IPv4 public DNS resolvers"]
    commit_and_deliver(db_session, session_factory, clock)
    clock.advance(days=1)
    arrive(
        db_session,
        clock,
        record("ipv4", "8.8.8.8"),
        record("ipv4", "8.8.8.0/24", ref="resolver-net"),
        record("domain", "old.example", valid_until=clock.now() - dt.timedelta(hours=1)),
        record("domain", "gone.example", revoked=True),
        record("domain", "noisy.example", detect=False),
    )
    commit_and_deliver(db_session, session_factory, clock)
    assert hunted(db_session, incident) == []
    assert intel_lines(db_session, incident) == []


def test_only_the_runs_indicators_and_the_windows_incidents(
    db_session: Session,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    cert: Cert,
) -> None:
    settings = slice_settings(retrohunt_days=10)  # CERT_RETROHUNT_DAYS=10
    intel.indicator(db_session, "domain", "earlier.example", now=days_ago(clock, 30))
    old = report(db_session, clock, cert.reporter, INFECTED_HOST)
    clock.advance(days=12)
    recent = report(
        db_session,
        clock,
        cert.reporter,
        INFECTED_HOST,
        observables=[{"type": "domain", "value": "earlier.example"}],
    )
    db_session.query(IncidentMatch).delete()  # whatever arrival found: start from none
    commit_and_deliver(db_session, session_factory, clock, settings)
    arrive(db_session, clock, record("ipv4", IP))
    commit_and_deliver(db_session, session_factory, clock, settings)
    assert hunted(db_session, old) == []  # received 12 days ago: outside the 10-day window
    assert hunted(db_session, recent) == [(IP, "exact", IP)]  # not earlier.example: older intel


def test_without_assignee_the_leads_and_staff_on_duty_are_told_within_tlp(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    amber = report(db_session, clock, cert.reporter, INFECTED_HOST)
    red = report(db_session, clock, cert.reporter, INFECTED_HOST, tlp="TLP:RED")
    commit_and_deliver(db_session, session_factory, clock)
    arrive(db_session, clock, record("ipv4", IP))
    commit_and_deliver(db_session, session_factory, clock)
    commit_and_deliver(db_session, session_factory, clock)
    assert hunted(db_session, amber) == hunted(db_session, red) == [(IP, "exact", IP)]
    assert kinds(db_session, cert.lead).count(Kind.INTEL_MATCH) == 2
    assert kinds(db_session, cert.on_duty).count(Kind.INTEL_MATCH) == 1  # never the RED one
    assert Kind.INTEL_MATCH not in kinds(db_session, cert.analyst)
    assert Kind.INTEL_MATCH not in kinds(db_session, cert.reporter)


def test_a_second_run_of_the_same_values_adds_nothing(
    db_session: Session, clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter, INFECTED_HOST)
    feed = intel.feed(db_session)
    since = clock.now()
    arrive(db_session, clock, record("ipv4", IP, modified=since))
    first = hunt(
        db_session, feed_id=feed.id, since=since, window_start=days_ago(clock, 1), now=clock.now()
    )
    again = hunt(
        db_session, feed_id=feed.id, since=since, window_start=days_ago(clock, 1), now=clock.now()
    )
    assert (first.indicators, first.matches, first.incidents) == (1, 1, 1)
    assert (again.indicators, again.matches, again.incidents) == (1, 0, 0)
    total = select(func.count()).select_from(IncidentMatch)
    assert db_session.scalar(total.where(IncidentMatch.incident_id == incident.id)) == 1


def test_matches_on_arrival_tell_nobody(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    incident = report(db_session, clock, cert.reporter, INFECTED_HOST)
    workflow.assign(db_session, Actor.for_user(cert.lead), incident, cert.analyst, clock=clock)
    indicator = intel.indicator(db_session, "ipv4", IP)
    [observable] = incident.observables
    record_matches(
        db_session,
        incident,
        [(observable, [Match(indicator, IP, Why.EXACT)])],
        found_by=FoundBy.ARRIVAL,
        actor=Actor.system("intake"),
        now=clock.now(),
    )
    commit_and_deliver(db_session, session_factory, clock)
    assert len(intel_lines(db_session, incident)) == 1
    assert all(Kind.INTEL_MATCH not in kinds(db_session, u) for u in (cert.analyst, cert.lead))


def test_a_confident_retro_hunt_match_raises_the_priority_as_on_arrival(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, cert: Cert
) -> None:
    """The attention rule (incidents.intel.attention) holds for sightings found by retro-hunt:
    one step up, with its timeline line; a weak match changes nothing."""
    incident = report(db_session, clock, cert.reporter, INFECTED_HOST)
    before = incident.priority
    commit_and_deliver(db_session, session_factory, clock)
    clock.advance(days=1)
    arrive(db_session, clock, record("ipv4", IP, name="Weak lead", confidence=20))
    commit_and_deliver(db_session, session_factory, clock)
    db_session.refresh(incident)
    assert incident.priority == before  # confidence 20: sighted, not raised
    clock.advance(days=1)
    arrive(db_session, clock, record("ipv4", IP, ref="strong", name="Emotet C2", confidence=90))
    commit_and_deliver(db_session, session_factory, clock)
    db_session.refresh(incident)
    assert incident.priority != before
    assert list(Priority).index(incident.priority) == list(Priority).index(before) - 1
