"""Saved queue filters: a named set of queue arguments per user (model and services, Flask-free).

A saved filter stores the bookmarkable arguments of
:meth:`incidents.queue.query.QueueFilter.to_args` (never a cursor), validated again when saved; each
user sees and changes only their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit
from core.clock import Clock
from core.db import Base
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.identity.authz import Actor
from incidents.actions import IncidentAction
from incidents.queue.filter import QueueFilter

MAX_NAME = 80
MAX_PER_USER = 50


class SavedFilter(Base):
    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)  # QueueFilter.to_args(), no cursor
    created_at: Mapped[dt.datetime]


def list_filters(session: Session, actor: Actor) -> list[SavedFilter]:
    """The actor's saved filters, by name."""
    if actor.user_id is None:
        return []
    query = select(SavedFilter).where(SavedFilter.user_id == actor.user_id)
    return list(session.scalars(query.order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(
    session: Session, actor: Actor, name: str, queue_filter: QueueFilter, *, clock: Clock
) -> SavedFilter:
    """Save ``queue_filter`` (without its cursor) under ``name``; the name is unique per user."""
    user_id = _user_of(actor)
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(
            "invalid name", fields={"name": f"between 1 and {MAX_NAME} characters"}
        )
    mine = list_filters(session, actor)
    if any(saved.name == name for saved in mine):
        raise Conflict("a saved filter has this name", fields={"name": "already used"})
    if len(mine) >= MAX_PER_USER:
        raise ValidationFailed(
            "too many saved filters", fields={"name": f"at most {MAX_PER_USER} per user"}
        )
    args = queue_filter.without_cursor().to_args()
    saved = SavedFilter(user_id=user_id, name=name, args=args, created_at=clock.now())
    session.add(saved)
    session.flush()
    audit.record(
        session, actor, IncidentAction.SAVED_FILTER_CREATE, "saved_filter", saved.id, clock=clock,
        after={"name": name, "args": args},
    )  # fmt: skip
    return saved


def delete_filter(session: Session, actor: Actor, filter_id: int, *, clock: Clock) -> None:
    """Delete one of the actor's saved filters (another user's is reported as not found)."""
    user_id = _user_of(actor)
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user_id:
        raise NotFound("saved filter not found")
    audit.record(
        session, actor, IncidentAction.SAVED_FILTER_DELETE, "saved_filter", saved.id, clock=clock,
        before={"name": saved.name, "args": saved.args},
    )  # fmt: skip
    session.delete(saved)
    session.flush()


def filter_of(saved: SavedFilter) -> QueueFilter:
    """The queue filter a saved filter stands for (validated again: rules may have changed)."""
    return QueueFilter.from_args(saved.args)


def _user_of(actor: Actor) -> int:
    if actor.user_id is None:
        raise PermissionDenied("saved filters belong to users")
    return actor.user_id
