"""Append-only audit log (kernel). Every state change records one row in the same transaction.

The table refuses UPDATE and DELETE at the database level (triggers created by the migration).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cert.auth.authz import Actor
from cert.clock import Clock
from cert.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))  # e-mail, "cli:<user>" or "system:<job>"
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "user.create"
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    *,
    clock: Clock,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit row to the caller's transaction."""
    entry = AuditEntry(
        at=clock.now(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_jsonable(before),
        after=_jsonable(after),
        ip=actor.ip,
    )
    session.add(entry)
    return entry


def insert_entry(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    *,
    clock: Clock,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """:func:`record` as one INSERT on the session's connection (hot paths: no object, no
    flush); the same row in the same transaction."""
    values = {
        "at": clock.now(),
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": _jsonable(before),
        "after": _jsonable(after),
        "ip": actor.ip,
    }
    session.connection().execute(insert(AuditEntry.metadata.tables["audit_log"]), values)


def list_entries(
    session: Session,
    *,
    limit: int = 50,
    before_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: int | None = None,
) -> list[AuditEntry]:
    """Newest first, keyset-paginated on ``id`` (pass the last id seen as ``before_id``)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return list(session.scalars(query))


def _jsonable(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Summaries are JSON: datetimes become ISO text, enums their value, sets sorted lists."""
    if values is None:
        return None
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value
