"""The rows of a new incident, written with Core INSERTs (Flask-free; ``submit_incident`` only).

One INSERT per table, the observables in one multi-row INSERT, instead of the ORM unit of work,
whose bookkeeping cost more than the rest of a submission. The incident and its observables
come back as persistent ORM objects with nothing pending, as if just loaded, so that callers
use them as before (relationships, later changes flushed as usual).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from core.clock import Clock
from core.identity.authz import Actor
from core.identity.models import Organisation
from feeds.index.benign import warning_lists
from incidents import daily
from incidents.models import Incident, IncidentObservable
from incidents.observables.extraction import Observable

_Row = TypeVar("_Row", Incident, IncidentObservable)
_TABLES = Incident.metadata.tables
_INCIDENTS, _OBSERVABLES = _TABLES["incidents"], _TABLES["incident_observables"]
_INSERT_INCIDENT = insert(_INCIDENTS).returning(_INCIDENTS.c.id)
_INSERT_OBSERVABLES = insert(_OBSERVABLES).returning(
    _OBSERVABLES.c.id, _OBSERVABLES.c.type, _OBSERVABLES.c.value
)
_INSERT_EVENT = insert(_TABLES["incident_events"])


def insert_incident(session: Session, organisation: Organisation, **values: object) -> Incident:
    """INSERT the incident (every column but ``id`` given); it comes back persistent, with its
    organisation and empty collections loaded."""
    incident_id = session.connection().execute(_INSERT_INCIDENT, values).scalar_one()
    daily.add_rows(session, [values])  # the dashboard's aggregate (a Core INSERT: no ORM hook)
    # new: its organisation is known and its collections are empty, nothing to load
    related: dict[str, object] = {"organisation": organisation}
    related |= {name: [] for name in ("observables", "attachments", "participants", "shares")}
    return _loaded(session, Incident, {"id": incident_id, **values}, related)


def insert_observables(
    session: Session, incident: Incident, found: Iterable[tuple[Observable, str]], *, clock: Clock
) -> None:
    """Each (type, value) once, with every place it was found, in one multi-row INSERT; they
    become ``incident.observables``."""
    sources: dict[tuple[str, str], list[str]] = {}
    for observable, source in found:
        places = sources.setdefault((observable.type.value, observable.value), [])
        if source not in places:
            places.append(source)
    if not sources:
        return
    rows = [
        {
            "incident_id": incident.id,
            "type": kind,
            "value": value,
            "sources": places,
            "tlp": incident.tlp,
            "created_at": clock.now(),
            "origin_incident_id": None,  # its own (a merge sets the origin)
            "warning_lists": warning_lists(kind, value),  # known-benign: never matched
        }
        for (kind, value), places in sources.items()
    ]
    # (type, value) is unique per incident: it tells which id is whose, in any RETURNING order
    ids = {
        (kind, value): row_id
        for row_id, kind, value in session.connection().execute(_INSERT_OBSERVABLES, rows)
    }
    rows.sort(key=lambda row: ids[row["type"], row["value"]])  # the relationship's order
    observables = [
        _loaded(session, IncidentObservable, {"id": ids[row["type"], row["value"]], **row})
        for row in rows
    ]
    set_committed_value(incident, "observables", observables)


def insert_event(
    session: Session,
    incident: Incident,
    actor: Actor,
    kind: str,
    *,
    clock: Clock,
    public: bool,
    data: Mapping[str, object],
) -> None:
    """One line of the incident's timeline (what ``add_event`` adds, as one INSERT)."""
    values = {
        "incident_id": incident.id,
        "at": clock.now(),
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "kind": kind,
        "public": public,
        "data": dict(data),
    }
    session.connection().execute(_INSERT_EVENT, values)


def forget(session: Session, incident: Incident) -> None:
    """Drop the objects of rows a rolled-back SAVEPOINT took away (they were never pending,
    so the session would keep them)."""
    for row in [*incident.observables, incident]:
        if row in session:
            session.expunge(row)


def _loaded(
    session: Session,
    cls: type[_Row],
    values: dict[str, object],
    related: Mapping[str, object] | None = None,
) -> _Row:
    """The object of a row just INSERTed, persistent in ``session`` with nothing pending, built
    as a query loads one: column values put in place without the events of ``cls(**values)``,
    ``related`` objects and collections set as loaded."""
    row: _Row = inspect(cls).class_manager.new_instance()
    instance_state(row).dict.update(values)
    for name, value in (related or {}).items():
        set_committed_value(row, name, value)
    make_transient_to_detached(row)  # identity from the primary key; the values as committed
    session.add(row)
    return row
