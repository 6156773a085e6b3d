"""Per-slice factories: keyword-default functions that create rows through the real services
(add + flush, audit rows included), so that a test states only what matters to it.

* accounts (core): :func:`make_org`, :func:`make_user`, :func:`make_token`, :func:`actor_of`;
  they act as ``Actor.system("test")``.
* incidents: :func:`report`, an incident submitted through the real intake service by a user
  (or by a new reporter of an organisation), with sample bodies to start from.

Pass the test's session and clock (``db_session``, ``clock``). For a cast of known people, see
:class:`tests.kit.world.World`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from core.auth import organisations as orgs
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.clock import Clock, FrozenClock
from core.identity.authz import Actor
from core.identity.models import ApiToken, Organisation, OrganisationKind, Role, User
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident
from incidents.settings import IntakeSettings

SYSTEM = Actor.system("test")
PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


# ---------------------------------------------------------------- accounts
def make_org(
    session: Session,
    clock: Clock,
    *,
    slug: str | None = None,
    kind: str = OrganisationKind.MINISTRY,
    name: str | None = None,
    name_ar: str | None = None,
    sector: str | None = None,
) -> Organisation:
    slug = slug or f"org-{next(_sequence)}"
    org = orgs.create_organisation(
        session,
        SYSTEM,
        slug=slug,
        name=name or f"Organisation {slug}",
        name_ar=name_ar,
        kind=kind,
        sector=sector,
        clock=clock,
    )
    session.flush()  # the audit row too: the app under test shares the connection
    return org


def make_user(
    session: Session,
    clock: Clock,
    *,
    role: str = Role.REPORTER,
    password: str | None = PASSWORD,
    email: str | None = None,
    name: str = "Test User",
    org: Organisation | None = None,
    locale: str = "fr",
) -> User:
    """A user; staff get a CERT organisation and reporters a ministry unless ``org`` is given."""
    if org is None:
        kind = OrganisationKind.MINISTRY if role == Role.REPORTER else OrganisationKind.CERT
        org = make_org(session, clock, kind=kind)
    user = accounts.create_user(
        session,
        SYSTEM,
        email=email or f"user{next(_sequence)}@example.gov.ma",
        name=name,
        role=role,
        organisation=org,
        password=password,
        locale=locale,
        clock=clock,
    )
    session.flush()
    return user


def make_token(
    session: Session, clock: Clock, user: User, *, label: str = "test script", scope: str = "write"
) -> tuple[ApiToken, str]:
    """An API token of ``user`` (read and write unless ``scope="read"``): the row and the secret
    (shown once in real life)."""
    token, secret = api_tokens.create_token(
        session, SYSTEM, user, label=label, scope=scope, clock=clock
    )
    session.flush()
    return token, secret


def actor_of(user: User) -> Actor:
    """The actor a service call made by ``user`` runs as."""
    return Actor.for_user(user)


# ---------------------------------------------------------------- incidents
SETTINGS = IntakeSettings()
PHISHING: dict[str, Any] = {
    "title": "Campagne de phishing visant la messagerie du ministère",
    "description": (
        "Plusieurs agents ont reçu un courriel de securite[@]interieur-gov[.]ma contenant le lien "
        "hxxps://webmail-interieur[.]com/login.php. Connexions depuis 185.220.101[.]4 ; "
        "le fichier facture.pdf et la version 1.2.3.4 du client ne sont pas des indicateurs."
    ),
    "category": "fraud",
    "type": "phishing",
    "impact": "high",
    "urgency": "high",
}
MINIMAL: dict[str, Any] = {
    "title": "Poste infecté",
    "description": "Alerte antivirus.",
    "category": "other",
}
INFECTED_HOST: dict[str, Any] = {
    "title": "Poste infecté",
    "description": "Alerte antivirus sur 198.51.100.23.",
    "category": "malicious-code",
    "type": "infected-system",
}


def report(
    session: Session,
    clock: Clock,
    by: User | Organisation,
    body: Mapping[str, Any] = PHISHING,
    *,
    settings: IntakeSettings = SETTINGS,
    state: Mapping[str, Any] | None = None,
    **changes: Any,
) -> Incident:
    """An incident submitted through the real intake service: ``body`` with ``changes``.

    ``by`` is the user who reports (staff name the organisation with ``organisation=``), or an
    organisation: then a new reporter of it (no password) reports. ``state`` columns (status,
    assignee_id, acknowledged_at…) are then set on the row directly: they arrange a situation to
    look at; the workflow has its own tests. A frozen clock then moves on by a minute, so that
    reports made one after the other are apart in time.
    """
    if isinstance(by, Organisation):
        by = make_user(session, clock, org=by, password=None)
    submission = IncidentSubmission.model_validate({**body, **changes})
    incident = submit_incident(session, actor_of(by), submission, clock=clock, settings=settings)
    for name, value in (state or {}).items():
        setattr(incident, name, value)
    session.flush()
    if isinstance(clock, FrozenClock):
        clock.advance(minutes=1)
    return incident
