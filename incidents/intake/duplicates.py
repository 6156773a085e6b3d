"""Earlier reports of the same thing, looked up when a report arrives (Flask-free).

An organisation's ``source_ref`` already reported is refused (409); recent incidents of the
organisation sharing an external indicator are recorded as possible duplicates. Both in one
round trip (:data:`EARLIER_REPORTS`), built once as Core statements: no ORM entities to load,
only references.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import bindparam, exists, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from core.db import is_postgres, outer_first, unindexed
from core.errors import Conflict
from incidents.models import Incident, IncidentObservable
from incidents.observables.connections import load_constituency
from incidents.observables.extraction import Observable
from incidents.observables.scope import classify

# Duplicate look-ups, built once (Core: no ORM entities to load, only references).
_INCIDENTS, _OBSERVABLES = Incident.__table__, IncidentObservable.__table__
_SAME_SOURCE_REF = select(_INCIDENTS.c.reference).where(
    _INCIDENTS.c.organisation_id == bindparam("organisation_id"),
    _INCIDENTS.c.source_ref == bindparam("source_ref"),
    unindexed(_INCIDENTS.c.received_at) >= bindparam("since"),  # SQLite: use ix_…_org_source_ref
)
_ORIGINS = _INCIDENTS.alias("origins")
# SQLite: the plan is pinned, so that its cost stays flat whatever the planner's statistics say
# (ones taken on a nearly empty database made it walk every incident in reference order to
# spare the sort of ten rows): it starts from ix_incident_observables_value, the only loop order
# a CROSS JOIN allows, and reaches each incident by its primary key; the ORDER BY cannot use an
# index (+reference).
_SHARED_OBSERVABLES = (
    select(_INCIDENTS.c.reference)
    .select_from(
        outer_first(
            _OBSERVABLES,
            _INCIDENTS,
            _OBSERVABLES.c.incident_id == _INCIDENTS.c.id,
            index="ix_incident_observables_value",
        )
    )
    .where(
        unindexed(_INCIDENTS.c.organisation_id) == bindparam("organisation_id"),
        unindexed(_INCIDENTS.c.received_at) >= bindparam("since"),
        _OBSERVABLES.c.value.in_(bindparam("values", expanding=True)),
        # only what the organisation reported: not a value merged in from another one's report
        or_(
            _OBSERVABLES.c.origin_incident_id.is_(None),
            exists().where(
                _ORIGINS.c.id == _OBSERVABLES.c.origin_incident_id,
                _ORIGINS.c.organisation_id == bindparam("organisation_id"),
            ),
        ),
    )
    .distinct()
    .order_by(unindexed(_INCIDENTS.c.reference).desc())
    .limit(10)
)
EARLIER_REPORTS = union_all(
    select(literal_column("'source_ref'"), _SAME_SOURCE_REF.limit(1).subquery().c.reference),
    select(literal_column("'observable'"), _SHARED_OBSERVABLES.subquery().c.reference),
)


_SOURCE_REF_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("key"), 0)))


def serialise_source_ref(session: Session, organisation_id: int, source_ref: str | None) -> None:
    """PostgreSQL-specific: submissions of one organisation with the same ``source_ref`` take
    turns (a transaction-level advisory lock on the pair), so that the look-up that follows sees
    a racing twin once it has committed and refuses it (409) instead of recording a second
    incident. SQLite needs nothing: a submission holds the database's write lock throughout."""
    if source_ref is not None and is_postgres(session):
        session.execute(_SOURCE_REF_LOCK, {"key": f"source_ref:{organisation_id}:{source_ref}"})


def earlier_reports(
    session: Session,
    organisation_id: int,
    source_ref: str | None,
    values: list[str],
    *,
    since: dt.datetime,
) -> list[str]:
    """Recent incidents of the organisation sharing an observable (newest first), after
    refusing a ``source_ref`` it already reported (``Conflict``): one round trip for both."""
    params = {
        "organisation_id": organisation_id,
        "source_ref": source_ref,
        "since": since,
        "values": values[:500],
    }
    found = session.execute(EARLIER_REPORTS, params).all()
    for why, existing in found:
        if why == "source_ref":
            raise Conflict(
                f"source_ref {source_ref!r} was already reported as {existing}",
                fields={"source_ref": f"duplicate of {existing}"},
            )
    return sorted((reference for _, reference in found), reverse=True)


def indicator_values(session: Session, found: Iterable[Observable]) -> list[str]:
    """The values of the external indicators of ``found``, each once: a private, documentation
    or reserved address or name, or the constituency's own, makes no report a duplicate."""
    found = list(found)
    if not found:
        return []
    constituency = load_constituency(session)
    values = {
        o.value: None for o in found if classify(o.type.value, o.value, constituency).external
    }
    return list(values)
