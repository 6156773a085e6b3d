"""Who is told about an incident (Flask-free): CERT staff who may see it, never a reporter.

* a new incident: its **scope** — every active lead, and the staff on duty
  (``notification_preferences.on_duty``, set by leads and admins on the rota page);
* an incident's own news (a reporter's answer, an SLA due soon or breached): its **owner**, the
  assignee, or the scope while nobody is assigned;
* nobody is told of their own action.

Every recipient is checked against :func:`incidents.access.can_see` at the time the
notification is written: a ``TLP:RED`` incident reaches only its assignee, named participants and
leads, whoever is on duty.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.identity.models import CERT_ROLES, Role, User
from incidents.access import can_see
from incidents.models import Incident
from incidents.notifications.models import NotificationPreference


def may_be_told(user: User, incident: Incident) -> bool:
    """An active CERT staff member who may see ``incident`` now."""
    return user.is_active and user.is_cert_staff and can_see(Actor.for_user(user), incident)


def active_staff(session: Session) -> list[User]:
    """Every active CERT staff member, by id."""
    query = select(User).where(User.is_active, User.role.in_(sorted(CERT_ROLES)))
    return list(session.scalars(query.order_by(User.id)))


def scope(session: Session) -> list[User]:
    """The active leads and the active staff on duty, by id."""
    on_duty = select(NotificationPreference.user_id).where(NotificationPreference.on_duty)
    query = select(User).where(
        User.is_active,
        User.role.in_(sorted(CERT_ROLES)),
        or_(User.role == Role.LEAD, User.id.in_(on_duty)),
    )
    return list(session.scalars(query.order_by(User.id)))


def owners(session: Session, incident: Incident) -> list[User]:
    """The assignee, else the scope."""
    if incident.assignee_id is not None:
        assignee = session.get(User, incident.assignee_id)
        return [assignee] if assignee is not None else []
    return scope(session)


def told(users: Iterable[User], incident: Incident, *, actor_id: int | None) -> list[User]:
    """``users`` who may be told about ``incident``, without the one who acted, once each."""
    seen: set[int] = set()
    result: list[User] = []
    for user in users:
        if user.id in seen or user.id == actor_id or not may_be_told(user, incident):
            continue
        seen.add(user.id)
        result.append(user)
    return result
