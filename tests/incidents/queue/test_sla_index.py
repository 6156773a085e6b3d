"""The SLA order of the open incidents has an index on PostgreSQL (migration 0042): the query the
queue builds for ``?status=open&sort=sla`` — its WHERE with bound statuses and the exact
expression ``sort_column("sla")`` orders by — can be answered in that order without a sort. With
sorting switched off, the planner must then walk ``ix_expr_incidents_open_sla``; if the query's
expression or the open statuses drifted from the index's, it could not, and this fails."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, select, text

from incidents.models import Incident, IncidentStatus
from incidents.queue.keyset import sort_column
from tests.dbs import TestDatabase

INDEX = "ix_expr_incidents_open_sla"
OPEN = sorted({IncidentStatus.NEW, IncidentStatus.TRIAGED, IncidentStatus.IN_PROGRESS})


def test_the_open_sla_order_is_read_from_its_index(
    database: TestDatabase, connection: Connection
) -> None:
    names = {index["name"] for index in inspect(connection).get_indexes("incidents")}
    if database.backend != "postgresql":
        assert INDEX not in names  # SQLite: no use for it (bound statuses), not created
        return
    assert INDEX in names
    query = (
        select(Incident.id)
        .where(Incident.status.in_(OPEN), Incident.priority.in_(["P1", "P2"]))
        .order_by(sort_column("sla"), Incident.id)
        .limit(51)
    )
    connection.execute(text("SET LOCAL enable_sort = off"))
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    compiled = query.compile(connection, compile_kwargs={"render_postcompile": True})
    plan = "\n".join(
        row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    )
    assert INDEX in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan
