"""Demo incident reports for ``cert demo``: realistic French reports from the demo ministries.

Each one goes through :func:`incidents.intake.service.submit_incident` as the ministry's reporter
(or, for ministries without a demo reporter, as the CERT coordinator taking a report by telephone),
so references, priorities, SLA, observables and acknowledgements are the real ones. Indicators
are written defanged, as reporters paste them. Idempotent: a report whose ``source_ref``
(``DEMO-001``…) already exists is skipped. The reports are data: ``data/demo_incidents.json``.
Flask-free.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import services as accounts
from core.clock import Clock
from core.identity.authz import Actor
from core.identity.models import Organisation
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident
from incidents.settings import IntakeSettings

DEMO_PREFIX = "DEMO-"
COORDINATOR = "coordinateur@macert.gov.ma"  # records telephone reports (DEMO_USERS)


@dataclass(frozen=True)
class DemoReport:
    source_ref: str
    organisation: str  # slug
    reporter: str | None  # demo reporter e-mail; None: taken by the CERT coordinator
    days_ago: float  # received that long before "now" (oldest first, so references follow)
    detected_hours_before: float
    submission: Mapping[str, Any]


@functools.cache
def demo_reports() -> tuple[DemoReport, ...]:
    """The reports of ``data/demo_incidents.json`` (French text, defanged indicators)."""
    raw = json.loads(
        resources.files("incidents").joinpath("data/demo_incidents.json").read_text("utf-8")
    )
    return tuple(DemoReport(**item) for item in raw)


class _Earlier:
    """``clock`` moved back by ``delta``: demo reports arrive over the past weeks."""

    def __init__(self, clock: Clock, delta: dt.timedelta) -> None:
        self._clock = clock
        self._delta = delta

    def now(self) -> dt.datetime:
        return self._clock.now() - self._delta


def seed_demo_incidents(
    session: Session, actor: Actor, clock: Clock, *, settings: IntakeSettings
) -> str:
    """Submit the demo reports that are not there yet; a one-line summary."""
    present = set(
        session.scalars(
            select(Incident.source_ref).where(Incident.source_ref.like(f"{DEMO_PREFIX}%"))
        )
    )
    coordinator = _actor(session, COORDINATOR, None) or actor
    created = skipped = 0
    for report in demo_reports():
        if report.source_ref in present:
            continue
        org = session.scalar(select(Organisation).where(Organisation.slug == report.organisation))
        if org is None:
            skipped += 1
            continue
        reporter = _actor(session, report.reporter, org) if report.reporter else None
        submit_incident(
            session,
            reporter or coordinator,
            _submission(report, clock, staff=reporter is None),
            clock=_Earlier(clock, dt.timedelta(days=report.days_ago)),
            settings=settings,
        )
        created += 1
    summary = f"demo incidents: {created} reported, {len(present)} already present"
    return summary + (f", {skipped} skipped (organisation missing)" if skipped else "")


def _actor(session: Session, email: str | None, org: Organisation | None) -> Actor | None:
    user = accounts.find_user(session, email) if email else None
    if user is None or (org is not None and user.organisation_id != org.id):
        return None
    return Actor.for_user(user)


def _submission(report: DemoReport, clock: Clock, *, staff: bool) -> IncidentSubmission:
    received = clock.now() - dt.timedelta(days=report.days_ago)
    data = {
        **report.submission,
        "source_ref": report.source_ref,
        "detected_at": received - dt.timedelta(hours=report.detected_hours_before),
    }
    if staff:
        data["organisation"] = report.organisation
    return IncidentSubmission.model_validate(data, context={"now": clock.now()})
