"""A small world for the workspace tests: two ministries, their reporters, CERT staff and
incidents reported through the real intake service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from core.outbox import OutboxMessage
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident, IncidentEvent
from incidents.settings import IntakeSettings
from tests.kit.api import PHISHING
from tests.kit.factories import PASSWORD, make_org, make_user

SETTINGS = IntakeSettings()


@dataclass
class World:
    interieur: Organisation
    sante: Organisation
    reporter: User  # of interieur, writes English
    other_reporter: User  # of sante
    analyst: User
    analyst2: User
    lead: User

    @staticmethod
    def actor(user: User) -> Actor:
        return Actor.for_user(user)


def make_world(session: Session, clock: FrozenClock, *, login: bool = False) -> World:
    """Users without passwords (hashing is slow) unless ``login``: then the reporters, the
    analyst and the lead can log in with ``tests.kit.factories.PASSWORD``."""
    secret = PASSWORD if login else None
    interieur = make_org(session, clock, slug="min-interieur")
    sante = make_org(session, clock, slug="min-sante")
    return World(
        interieur=interieur,
        sante=sante,
        reporter=make_user(
            session,
            clock,
            org=interieur,
            email="amal@interieur.gov.ma",
            locale="en",
            password=secret,
        ),
        other_reporter=make_user(
            session, clock, org=sante, email="karim@sante.gov.ma", password=secret
        ),
        analyst=make_user(
            session, clock, role=Role.ANALYST, email="analyst@cert.ma", password=secret
        ),
        analyst2=make_user(
            session, clock, role=Role.ANALYST, email="analyst2@cert.ma", password=None
        ),
        lead=make_user(session, clock, role=Role.LEAD, email="lead@cert.ma", password=secret),
    )


def report(session: Session, clock: FrozenClock, user: User, **changes: Any) -> Incident:
    """An incident reported by ``user`` (staff name the organisation with ``organisation=``)."""
    data = IncidentSubmission.model_validate({**PHISHING, **changes})
    incident = submit_incident(session, Actor.for_user(user), data, clock=clock, settings=SETTINGS)
    session.flush()
    clock.advance(minutes=1)
    return incident


def events(session: Session, incident: Incident, kind: str | None = None) -> list[IncidentEvent]:
    query = select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
    if kind is not None:
        query = query.where(IncidentEvent.kind == kind)
    return list(session.scalars(query.order_by(IncidentEvent.id)))


def outbox(session: Session, incident: Incident) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.related_id == incident.reference)
            .order_by(OutboxMessage.id)
        )
    )


def audit_actions(session: Session, incident: Incident) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "incident", AuditEntry.object_id == incident.reference)
            .order_by(AuditEntry.id)
        )
    )
