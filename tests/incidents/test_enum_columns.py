"""Enumerated columns (``core.db.StrEnumType``) give back the members, on every path an incident
comes from (intake's Core INSERT, a query, a Core select, a string set on the object), while the
schema and the stored values stay plain strings (both backends)."""

from __future__ import annotations

from sqlalchemy import String, select, text
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.db import StrEnumType
from core.identity.models import Organisation, Role, User
from core.markings import Pap, Tlp
from incidents.models import (
    Incident,
    IncidentObservable,
    IncidentStatus,
    Level,
    Priority,
    ReporterState,
)
from tests.kit.factories import report
from tests.kit.world import World

ENUMS = {
    "status": IncidentStatus,
    "tlp": Tlp,
    "pap": Pap,
    "impact": Level,
    "urgency": Level,
    "priority": Priority,
}


def _members(incident: Incident) -> dict[str, type]:
    return {name: type(getattr(incident, name)) for name in ENUMS}


def test_intake_and_loads_give_members(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, reporter_state="ongoing")
    assert _members(incident) == ENUMS  # as intake's Core INSERT put them in place
    assert type(incident.reporter_state) is ReporterState
    assert all(type(o.tlp) is Tlp for o in incident.observables)
    db_session.expire_all()
    stored = db_session.get(Incident, incident.id)
    assert stored is not None and _members(stored) == ENUMS
    assert stored.status is IncidentStatus.NEW and stored.tlp is Tlp.AMBER
    status, tlp = db_session.execute(
        select(Incident.status, Incident.tlp).where(Incident.id == incident.id)
    ).one()
    assert status is IncidentStatus.NEW and tlp is Tlp.AMBER
    observable = db_session.scalars(select(IncidentObservable)).first()
    assert observable is not None and type(observable.tlp) is Tlp
    user = db_session.get(User, world.analyst.id)
    organisation = db_session.get(Organisation, world.reporter.organisation_id)
    assert user is not None and user.role is Role.ANALYST
    assert organisation is not None and type(organisation.kind).__name__ == "OrganisationKind"


def test_the_database_holds_the_plain_values(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    row = db_session.execute(
        text("SELECT status, tlp, pap, impact, urgency, priority FROM incidents WHERE id = :id"),
        {"id": incident.id},
    ).one()
    assert tuple(row) == ("new", "TLP:AMBER", "PAP:AMBER", "high", "high", "P2")
    assert all(type(value) is str for value in row)
    # filters on strings still match, and a string that is no member finds nothing
    assert db_session.scalar(select(Incident.id).where(Incident.status == "new")) == incident.id
    assert db_session.scalar(select(Incident.id).where(Incident.status == "nope")) is None


def test_a_string_set_on_the_object_becomes_the_member(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    incident.status = "triaged"  # type: ignore[assignment]
    incident.tlp = "TLP:RED"  # type: ignore[assignment]
    assert incident.status is IncidentStatus.TRIAGED and incident.tlp is Tlp.RED
    assert incident.tlp.at_least_as_strict_as(Tlp.AMBER)


def test_the_column_type_is_a_plain_string_to_the_schema() -> None:
    column = Incident.__table__.c.status
    assert isinstance(column.type, StrEnumType) and column.type.enum_class is IncidentStatus
    assert isinstance(column.type.impl_instance, String) and column.type.impl_instance.length == 16
    assert StrEnumType(Tlp, 20).python_type is Tlp
