"""``bench/queue.py --centre`` and ``--explain``: the demo analyst in a health vigilance centre
only (the centre branch of :func:`incidents.access.visible`), and the plan of each statement on
``incidents`` a request sends. Loaded by path by ``bench/queue.py`` (see its module)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, delete, insert, select, text, update

from core.db import make_engine
from core.identity.centres import Centre, CentreMember
from core.identity.models import Organisation, User
from incidents.models import Incident, IncidentShare


def sectorise(url: str, analyst_email: str, shares: int = 200) -> str:
    """``--centre``: a health vigilance centre (sector ``health``) holding the incidents of the
    health organisations, the analyst a member of it only (no longer of the national centre),
    and ``shares`` other incidents shared with it read-only — the analyst then sees through
    :func:`incidents.access.visible`'s centre branch. Statistics taken again."""
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    try:
        with engine.begin() as conn:
            centre = conn.execute(
                insert(Centre).values(
                    slug="sante", name="Centre santé", sectors=["health"], regions=[],
                    categories=[], working_hours={}, timezone="Africa/Casablanca",
                    is_national=False, created_at=now, updated_at=now,
                ).returning(Centre.id)
            ).scalar_one()  # fmt: skip
            health = select(Organisation.id).where(Organisation.sector == "health")
            moved = conn.execute(
                update(Incident)
                .where(Incident.organisation_id.in_(health))
                .values(centre_id=centre)
            ).rowcount
            analyst = select(User.id).where(User.email == analyst_email).scalar_subquery()
            conn.execute(delete(CentreMember).where(CentreMember.user_id == analyst))
            conn.execute(
                insert(CentreMember).values(
                    centre_id=centre, user_id=analyst, on_duty=False, added_at=now
                )
            )
            others = conn.scalars(
                select(Incident.id).where(Incident.centre_id != centre).order_by(Incident.id)
                .limit(shares)
            ).all()  # fmt: skip
            conn.execute(
                insert(IncidentShare),
                [
                    {"incident_id": i, "centre_id": centre, "mode": "read", "shared_at": now}
                    for i in others
                ],
            )
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return f"centre 'sante': {moved:,} incidents, {len(others)} shared with it read-only"


def explain(engine: Engine, statements: list[tuple[str, Any]]) -> None:
    """``--explain``: the plan of each SELECT on ``incidents`` a request sent (on PostgreSQL run,
    with its actual times and buffers: ``EXPLAIN (ANALYZE, BUFFERS)``)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT") or "incidents" not in statement:
                continue
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            cursor.execute(prefix + statement, params)
            plan = [str(row[0] if postgres else row[3]) for row in cursor.fetchall()]
            print("   ", " ".join(statement.split())[:160])
            print("\n".join(f"      {line}" for line in plan))
        cursor.close()
        conn.rollback()
