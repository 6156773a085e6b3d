"""Migration 0008 (``incident_observables.origin_incident_id``) on a database holding merged
incidents, both backends: rows are kept both ways and the observables' full-text index still
follows the table (SQLite rebuilds the table in batch mode, which drops its FTS5 triggers)."""

from __future__ import annotations

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from cert import schema
from core.clock import FrozenClock
from core.identity.authz import Actor
from incidents.models import Incident, IncidentObservable
from incidents.queue.search import matches
from incidents.workspace import merge
from tests.dbs import TestDatabase
from tests.incidents.cross_scene import DUPLICATE, SURVIVOR, confirm
from tests.kit.factories import SETTINGS, report
from tests.kit.world import World


def _found(session: Session, term: str) -> list[str]:
    dialect = session.get_bind().dialect.name
    query = select(Incident.reference).where(matches(term, dialect)).order_by(Incident.id)
    return list(session.scalars(query))


def _observables(session: Session) -> list[tuple[int, str, int | None]]:
    rows = select(
        IncidentObservable.incident_id,
        IncidentObservable.value,
        IncidentObservable.origin_incident_id,
    ).order_by(IncidentObservable.id)
    return [(r[0], r[1], r[2]) for r in session.execute(rows)]


def test_0008_keeps_merged_observables_and_their_search(
    fresh_database: TestDatabase, clock: FrozenClock
) -> None:
    engine = fresh_database.engine
    with Session(engine) as session:
        world = World(session, clock)
        survivor = report(session, clock, world.reporter, **SURVIVOR)
        other = report(session, clock, world.other_reporter, **DUPLICATE)
        merge.merge(
            session, Actor.for_user(world.lead), survivor, other, clock=clock, settings=SETTINGS,
            confirm_organisations=confirm(other, survivor),
        )  # fmt: skip
        session.commit()
        before = _observables(session)
        survivor_ref, survivor_id, other_id = survivor.reference, survivor.id, other.id
    assert (survivor_id, "sante-exfil.example", other_id) in before

    schema.downgrade(engine, "0007")
    columns = {c["name"] for c in inspect(engine).get_columns("incident_observables")}
    assert "origin_incident_id" not in columns
    schema.upgrade(engine)
    with Session(engine) as session:
        after = _observables(session)
        assert [(i, v) for i, v, _ in after] == [(i, v) for i, v, _ in before]
        assert {o for _, _, o in after} == {None}  # a downgrade forgets origins
        # only the survivor's observables hold it (and the duplicate's description)
        assert survivor_ref in _found(session, "sante-exfil")
        session.add(
            IncidentObservable(
                incident_id=survivor_id, type="domain", value="apres-migration.example",
                sources=["analyst"], tlp="TLP:AMBER", created_at=clock.now(),
            )
        )  # fmt: skip
        session.commit()
        assert _found(session, "apres-migration") == [survivor_ref]  # the index follows
        count = select(func.count()).select_from(IncidentObservable)
        assert session.scalar(count) == len(before) + 1
