"""Sort keys and keyset cursors of the queue (Flask-free).

A page is cut on (sort key, id): the cursor carries the last (or first) row's key and id, so a
page costs the same whatever its depth and rows never repeat or vanish when others are added.
Cursors are opaque to clients (URL-safe base64 of a small JSON document naming the sort).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, or_

from core import inputs
from core.db import UtcDateTime
from core.errors import ValidationFailed
from core.identity.models import Organisation
from incidents.models import Incident, IncidentStatus

# workflow order for the status column (new first, then towards done)
STATUS_RANK = {status.value: rank for rank, status in enumerate(IncidentStatus)}


def sort_column(key: str) -> ColumnElement[Any]:
    """The SQL expression a sort key orders by."""
    if key == "received":
        return Incident.received_at.expression
    if key == "priority":
        return Incident.priority.expression
    if key == "status":
        return case(STATUS_RANK, value=Incident.status, else_=len(STATUS_RANK))
    if key == "sla":  # the next due date: acknowledgement while not acknowledged, then resolution
        return case(
            (Incident.acknowledged_at.is_(None), Incident.ack_due_at),
            else_=Incident.resolve_due_at,
        )
    if key == "organisation":
        return Organisation.name.expression
    if key == "reference":
        return Incident.reference.expression
    raise ValueError(f"unknown sort {key!r}")


def sort_value(key: str, incident: Incident) -> Any:
    """The value of ``incident`` for ``key`` (what a cursor carries)."""
    if key == "received":
        return incident.received_at
    if key == "priority":
        return incident.priority
    if key == "status":
        return STATUS_RANK.get(incident.status, len(STATUS_RANK))
    if key == "sla":
        return incident.ack_due_at if incident.acknowledged_at is None else incident.resolve_due_at
    if key == "organisation":
        return incident.organisation.name
    return incident.reference


@dataclass(frozen=True)
class Cursor:
    sort: str  # the full sort ("-received")
    value: Any
    id: int

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, dt.datetime) else self.value
        return inputs.cursor_token({"s": self.sort, "v": value, "i": self.id})

    @classmethod
    def decode(cls, token: str, sort: str, field: str) -> Cursor:
        bad = ValidationFailed("invalid page cursor", fields={field: "not a cursor of this queue"})
        try:
            data = inputs.cursor_data(token)
            if not isinstance(data, dict) or data.get("s") != sort:
                raise bad
            value, id_ = data["v"], data["i"]
            key = sort.lstrip("-")
            if key in ("received", "sla"):
                value = inputs.instant(dt.datetime.fromisoformat(value))  # offset, bounded
            elif key == "status":
                if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 100:
                    raise bad
            elif not isinstance(value, str) or len(value) > 300 or inputs.NUL in value:
                raise bad
            if not isinstance(id_, int) or isinstance(id_, bool) or not 0 < id_ <= inputs.MAX_ID:
                raise bad
        except inputs.CURSOR_ERRORS:
            raise bad from None
        return cls(sort, value, id_)


def beyond(cursor: Cursor, *, forward: bool) -> ColumnElement[bool]:
    """Rows strictly after (``forward``) or before the cursor in the sort's order.

    Written ``key ≤ v AND (key < v OR id < i)`` (for a descending sort) rather than as a row
    comparison, so that the first conjunct is a plain range on the sort column's index.
    """
    key = cursor.sort.lstrip("-")
    column = sort_column(key)
    typed = bindparam(
        None, cursor.value, type_=UtcDateTime() if key in ("received", "sla") else column.type
    )
    descending = cursor.sort.startswith("-") == forward
    if descending:
        return and_(column <= typed, or_(column < typed, Incident.id < cursor.id))
    return and_(column >= typed, or_(column > typed, Incident.id > cursor.id))
