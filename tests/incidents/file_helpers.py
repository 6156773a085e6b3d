"""Shared set-up of the incident-file page tests: people, an incident, and form posts that go
through the real pages (CSRF token included)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import Organisation, Role, User
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident
from incidents.settings import IntakeSettings
from tests.kit.factories import make_org, make_user
from tests.kit.web import csrf_token, text

SETTINGS = IntakeSettings()


def ministry(session: Session, clock: FrozenClock) -> Organisation:
    return make_org(
        session, clock, name="Ministère de la Santé", name_ar="وزارة الصحة", sector="health"
    )


def analyst(session: Session, clock: FrozenClock, **kwargs: Any) -> User:
    kwargs.setdefault("name", "Amine Analyste")
    return make_user(session, clock, role=Role.ANALYST, **kwargs)


def reported(session: Session, user: User, clock: FrozenClock, **changes: Any) -> Incident:
    data = {
        "title": "Poste infecté",
        "description": "Alerte antivirus sur 198.51.100.23.",
        "category": "malicious-code",
        "type": "infected-system",
    }
    submission = IncidentSubmission.model_validate({**data, **changes})
    incident = submit_incident(
        session, Actor.for_user(user), submission, clock=clock, settings=SETTINGS
    )
    session.flush()
    return incident


def token(client: FlaskClient) -> str:
    return csrf_token(text(client.get("/account")))


def act(
    client: FlaskClient, reference: str, action: str, prefix: str | None = None, /, **fields: str
) -> TestResponse:
    """POST one form of the file the way the browser sends it (prefixed names, CSRF token)."""
    name = (lambda key: f"{prefix}-{key}") if prefix else (lambda key: key)
    data = {name(key): value for key, value in fields.items()}
    data[name("csrf_token")] = token(client)
    return client.post(f"/incidents/{reference}/{action}", data=data)
