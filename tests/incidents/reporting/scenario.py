"""The reporting tests' world: two ministries, staff and a reporter, incidents across two months
with known deadlines (used by the dashboard, statistics, PDF and page tests)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident, IncidentStatus
from incidents.reporting.dashboard import Group, Period
from incidents.settings import IntakeSettings
from tests.kit.factories import make_org, make_user

ZONE = "Africa/Casablanca"
SETTINGS = IntakeSettings()
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 2, 28), ZONE)
H = 3600


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


@dataclass
class Scenario:
    interieur: Organisation
    sante: Organisation
    incidents: dict[str, Incident]
    lead: User
    analyst: User
    reporter_sante: User


KINDS: dict[str, dict[str, Any]] = {
    "phishing": {"category": "fraud", "type": "phishing", "impact": "high", "urgency": "high"},
    "malware": {
        "category": "malicious-code",
        "type": "infected-system",
        "impact": "critical",
        "urgency": "critical",
    },
    "scan": {
        "category": "information-gathering",
        "type": "scanner",
        "impact": "low",
        "urgency": "low",
    },
    "other": {"category": "other", "impact": "medium", "urgency": "medium"},
}


def report(
    session: Session,
    clock: FrozenClock,
    reporter: User,
    kind: str,
    received: dt.datetime,
    **changes: Any,
) -> Incident:
    clock.set(received)
    data = {"title": f"Incident {kind}", "description": "Décrit à la main.", **KINDS[kind]}
    submission = IncidentSubmission.model_validate({**data, "tlp": changes.pop("tlp", "TLP:AMBER")})
    incident = submit_incident(
        session, Actor.for_user(reporter), submission, clock=clock, settings=SETTINGS
    )
    for name, value in changes.items():
        setattr(incident, name, value)
    session.flush()
    return incident


def build(session: Session, clock: FrozenClock) -> Scenario:
    """Seven incidents; six received in PERIOD (local dates 2026-01-01..2026-02-28)."""
    interieur = make_org(session, clock, slug="min-interieur", sector="government")
    sante = make_org(session, clock, slug="min-sante", sector="health", name_ar="وزارة الصحة")
    rep_i = make_user(session, clock, org=interieur)
    rep_s = make_user(session, clock, org=sante)
    made = {
        # 2025-12-31 23:30 UTC is 2026-01-01 00:30 in Casablanca (UTC+1): inside the period
        "G": report(session, clock, rep_i, "other", utc(2025, 12, 31, 23, 30)),
        "A": report(
            session,
            clock,
            rep_i,
            "phishing",
            utc(2026, 1, 15, 23, 30),  # local 2026-01-16 00:30
            acknowledged_at=utc(2026, 1, 16, 1, 30),  # 2 h, due in 4 h: met
            resolved_at=utc(2026, 1, 17, 23, 30),  # 2 days, due in 3: met
            status=IncidentStatus.CLOSED,
        ),
        "B": report(
            session,
            clock,
            rep_i,
            "malware",
            utc(2026, 1, 16, 10, 0),
            acknowledged_at=utc(2026, 1, 16, 13, 0),  # 3 h, due in 1 h: late
            resolved_at=utc(2026, 1, 17, 16, 0),  # 30 h, due in 24 h: late
            status=IncidentStatus.RESOLVED,
        ),
        "C": report(session, clock, rep_s, "scan", utc(2026, 1, 20, 8, 0)),  # never handled
        "D": report(
            session,
            clock,
            rep_i,
            "malware",
            utc(2026, 2, 20, 12, 0),
            tlp="TLP:RED",
            acknowledged_at=utc(2026, 2, 20, 12, 30),  # 30 min: met; resolution overdue
            status=IncidentStatus.IN_PROGRESS,
        ),
        # UTC+0 during Ramadan: 23:30 UTC is still 2026-02-28 locally (inside) ...
        "E": report(session, clock, rep_s, "phishing", utc(2026, 2, 28, 23, 30)),
        # ... and 00:30 UTC is 2026-03-01 (outside); it is open, though
        "F": report(session, clock, rep_s, "phishing", utc(2026, 3, 1, 0, 30)),
    }
    clock.set(NOW)
    return Scenario(
        interieur,
        sante,
        made,
        make_user(session, clock, role=Role.LEAD),
        make_user(session, clock, role=Role.ANALYST),
        rep_s,
    )


def rounded(groups: Iterable[Group]) -> list[Group]:
    """``groups`` with their durations to the second: the daily aggregate sums milliseconds,
    the live figures floating-point seconds (SQLite's ``julianday``)."""
    return [
        Group(
            g.key,
            dataclasses.replace(
                g.figures,
                ack_seconds=round(g.figures.ack_seconds),
                resolve_seconds=round(g.figures.resolve_seconds),
            ),
            g.name,
        )
        for g in groups
    ]
