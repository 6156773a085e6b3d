"""The rows of a submission are written with Core INSERTs (``incidents.intake.rows``): what comes
back must be what the ORM would have given — persistent objects, nothing pending, relationships
usable without SQL — and the rows must hold the same values (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.audit import AuditEntry
from core.clock import FrozenClock
from core.identity.authz import Actor
from core.identity.models import User
from incidents.intake.rows import forget
from incidents.intake.schemas import IncidentSubmission
from incidents.intake.service import submit_incident
from incidents.models import Incident, IncidentEvent, IncidentObservable
from incidents.settings import IntakeSettings
from tests.kit.factories import actor_of

SETTINGS = IntakeSettings(reference_prefix="MACERT", mail_domain="cert.example.ma")
BODY = {
    "title": "Hameçonnage depuis 185.220.101[.]4",
    "description": "Lien hxxps://webmail-finances[.]com/login et 185.220.101[.]4 encore.",
    "category": "fraud",
    "type": "phishing",
    "observables": [{"type": "ipv4", "value": "185.220.101.4"}],
    "source_ref": "SIEM-42",
}


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.connection().engine

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def submit(session: Session, actor: Actor, clock: FrozenClock) -> Incident:
    data = IncidentSubmission.model_validate(BODY)
    return submit_incident(session, actor, data, clock=clock, settings=SETTINGS)


def test_the_incident_comes_back_persistent_and_loaded(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    incident = submit(db_session, actor_of(reporter), clock)
    assert incident in db_session and not db_session.new and not db_session.dirty
    with statements(db_session) as seen:
        kinds = [(o.type, o.value, o.sources) for o in incident.observables]
        assert incident.organisation.slug == "min-interieur"
        assert incident.attachments == [] and incident.participants == []
        assert incident.assignee is None and incident.closed_at is None
    assert seen == []  # all loaded already, no lazy load
    assert kinds == [
        ("ipv4", "185.220.101.4", ["title", "description", "api"]),
        ("url", "https://webmail-finances.com/login", ["description"]),
        ("domain", "webmail-finances.com", ["description"]),
    ]
    assert [o.id for o in incident.observables] == sorted(o.id for o in incident.observables)


def test_the_rows_hold_what_the_objects_say(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    incident = submit(db_session, actor_of(reporter), clock)
    expected = {c.key: getattr(incident, c.key) for c in Incident.__table__.columns}
    observables = [(o.id, o.type, o.value, o.sources, o.tlp) for o in incident.observables]
    db_session.expire_all()
    stored = db_session.get(Incident, expected["id"])
    assert stored is not None
    assert {c.key: getattr(stored, c.key) for c in Incident.__table__.columns} == expected
    assert [(o.id, o.type, o.value, o.sources, o.tlp) for o in stored.observables] == observables
    timeline = db_session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == stored.id)
    )
    [created] = timeline.all()
    assert (created.kind, created.public, created.actor_id) == ("created", True, reporter.id)
    assert created.data == {"priority": "P3", "category": "fraud", "type": "phishing"}
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "incident.submit"))
    assert entry.object_id == stored.reference and entry.actor_id == reporter.id
    assert entry.after == {"organisation": "min-interieur", "priority": "P3", "tlp": "TLP:AMBER"}


def test_later_changes_are_flushed_as_usual(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    incident = submit(db_session, actor_of(reporter), clock)
    incident.observables.append(
        IncidentObservable(
            type="md5",
            value="d41d8cd98f00b204e9800998ecf8427e",
            sources=["analyst"],
            tlp=incident.tlp,
            created_at=clock.now(),
        )
    )
    incident.title = "Hameçonnage (mis à jour)"
    db_session.flush()
    db_session.expire_all()
    stored = db_session.get(Incident, incident.id)
    assert stored is not None and stored.title == "Hameçonnage (mis à jour)"
    assert [o.type for o in stored.observables][-1] == "md5"


def test_rows_taken_away_by_a_savepoint_are_forgotten(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    savepoint = db_session.begin_nested()
    incident = submit(db_session, actor_of(reporter), clock)
    observables = list(incident.observables)
    savepoint.rollback()
    forget(db_session, incident)
    assert incident not in db_session and not any(o in db_session for o in observables)
    assert db_session.scalar(select(Incident).where(Incident.id == incident.id)) is None
