"""Intelligence with its STIX context for the intel pages' tests (pages and browser): an Emotet
C2 address indicating Emotet, which uses T1566 (phishing), and a T1059 object nothing relates
to; and an incident's observables matched against the index as sightings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from feeds.index.lookup import match_observables
from feeds.index.store import store_records
from feeds.models import Indicator
from feeds.rules.keys import index_value
from feeds.rules.records import IndicatorRecord, ObjectRecord, Parsed, RelationRecord
from incidents.intel.models import FoundBy
from incidents.intel.sightings import record_matches
from incidents.models import Incident
from tests.kit import intel

IP = "198.51.100.23"
C2 = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
EMOTET = "malware--6b616fc1-1505-48e3-8b2c-0d19337bff38"
PHISHING = "attack-pattern--a62a8db3-f23a-4d8f-afd6-9dbc77e7813b"
OTHER = "attack-pattern--3ccef7ae-cb5e-48f6-8302-897105fbf55c"


def context(session: Session) -> Indicator:
    """An Emotet C2 address indicating Emotet, which uses T1566 (phishing); a T1059 object."""
    feed = intel.feed(session, "mitre-feed")
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    parsed = Parsed(
        "stix",
        indicators=[
            IndicatorRecord(
                source_ref=C2,
                stix_id=C2,
                values=(index_value("ipv4", IP),),
                name="Emotet C2 server",
                pattern=f"[ipv4-addr:value = '{IP}']",
                pattern_type="stix",
                confidence=85,
                labels=("malicious-activity",),
                modified=at,
            )
        ],
        objects=[
            ObjectRecord(EMOTET, "malware", "Emotet", modified=at, aliases=("Geodo",)),
            ObjectRecord(PHISHING, "attack-pattern", "Phishing", modified=at, external_id="T1566"),
            ObjectRecord(OTHER, "attack-pattern", "Command and Scripting", external_id="T1059"),
        ],
        relations=[
            RelationRecord(C2, "indicates", EMOTET),
            RelationRecord(EMOTET, "uses", PHISHING),
        ],
    )
    store_records(session, feed, parsed, now=at)
    return session.scalars(select(Indicator).where(Indicator.stix_id == C2)).one()


def sighted(session: Session, clock: Clock, incident: Incident) -> None:
    observables = list(incident.observables)
    results = match_observables(session, [(o.type, o.value) for o in observables], now=clock.now())
    found = list(zip(observables, results, strict=True))
    actor = Actor.system("test")
    record_matches(
        session, incident, found, found_by=FoundBy.RETROHUNT, actor=actor, now=clock.now()
    )
