"""A CERT user's notifications (Flask-free use cases): the list, newest first, the unread count
and marking as read — always the user's own (another user's notification is ``NotFound``).

What a notification shows is decided when it is read, not when it was written: its incident's
reference and sentence always, the title and the link only while the reader may still see the
incident (:func:`incidents.access.can_see`: a ``TLP:RED`` incident taken away from them, or
whose participants changed, shows no title any more).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from core import audit
from core.clock import Clock
from core.errors import NotFound
from core.identity.authz import Actor
from incidents.access import can_see
from incidents.actions import IncidentAction
from incidents.models import Incident
from incidents.notifications.models import Notification
from incidents.notifications.sentences import sentence

PAGE_SIZE = 25


@dataclass(frozen=True)
class Shown:
    """A notification as its reader sees it now."""

    notification: Notification
    visible: bool  # the reader may still see the incident

    @property
    def reference(self) -> str:
        return self.notification.incident.reference

    @property
    def sentence(self) -> str:
        return sentence(self.notification.kind, self.notification.deadline)

    @property
    def title(self) -> str | None:
        return self.notification.incident.title if self.visible else None

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


@dataclass(frozen=True)
class InboxPage:
    items: list[Shown]
    older: int | None  # ?before= of the next page, None on the last one
    unread: int


def unread_count(session: Session, user_id: int) -> int:
    """The bell's number (``ix_notifications_unread``)."""
    query = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return session.scalar(query) or 0


def _me(actor: Actor) -> int:
    if actor.user_id is None or not actor.is_cert_staff:
        raise NotFound("no notifications")
    return actor.user_id


def inbox(
    session: Session,
    actor: Actor,
    *,
    before: int | None = None,
    unread_only: bool = False,
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """One page of the actor's notifications, newest first (keyset on id: ``before``)."""
    me = _me(actor)
    query = select(Notification).where(Notification.user_id == me)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    query = query.options(
        selectinload(Notification.incident).selectinload(Incident.participants),
        selectinload(Notification.incident).selectinload(Incident.shares),  # can_see reads both
        selectinload(Notification.actor),
    )
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    older = rows[limit - 1].id if len(rows) > limit else None
    items = [Shown(row, can_see(actor, row.incident)) for row in rows[:limit]]
    return InboxPage(items, older, unread_count(session, me))


def own(session: Session, actor: Actor, notification_id: int) -> Notification:
    """The actor's notification ``notification_id``; ``NotFound`` for anyone else's."""
    found = session.get(Notification, notification_id)
    if found is None or found.user_id != _me(actor):
        raise NotFound("no such notification")
    return found


def shown(actor: Actor, notification: Notification) -> Shown:
    return Shown(notification, can_see(actor, notification.incident))


def mark_read(session: Session, actor: Actor, notification: Notification, *, clock: Clock) -> bool:
    """Mark the actor's ``notification`` read (audited); ``False`` when it already was."""
    if notification.user_id != _me(actor):
        raise NotFound("no such notification")
    if notification.read_at is not None:
        return False
    notification.read_at = clock.now()
    notification.mail_pending = False  # read in the app: no e-mail about it any more
    session.flush()
    audit.record(
        session,
        actor,
        IncidentAction.NOTIFICATION_READ,
        "notification",
        notification.id,
        clock=clock,
    )
    return True


def mark_all_read(session: Session, actor: Actor, *, clock: Clock) -> int:
    """Mark every unread notification of the actor read (audited with the count); how many."""
    me = _me(actor)
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == me, Notification.read_at.is_(None))
        .values(read_at=clock.now(), mail_pending=False)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        audit.record(
            session,
            actor,
            IncidentAction.NOTIFICATIONS_READ_ALL,
            "user",
            me,
            clock=clock,
            after={"count": count},
        )
    return count
