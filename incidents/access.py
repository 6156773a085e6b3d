"""Who sees which incident: the one rule every page, API route, export and search applies.

* Reporters see their own organisation's incidents (never internal comments or CERT-only
  fields: views and serialisers choose what to show, this module chooses *which* incidents).
* CERT analysts see every incident except ``TLP:RED`` ones, which only the assignee, the named
  participants and leads (and admins, above leads) see.
* System actors (CLI, scheduler jobs) see everything.

:func:`visible` is the SQL form (for queues, counts, exports, search); :func:`can_see` the
Python form for one loaded incident. Both must agree: ``tests/incidents/test_access.py``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from core.identity.authz import Actor, at_least
from core.identity.models import Role
from incidents.models import Incident, IncidentParticipant

RED = "TLP:RED"


def sees_all_red(actor: Actor) -> bool:
    """Leads, admins and the system see every ``TLP:RED`` incident."""
    return actor.is_system or (actor.is_cert_staff and at_least(actor, Role.LEAD))


def visible(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Incident` selecting what ``actor`` may see."""
    if not actor.is_cert_staff:
        if actor.organisation_id is None:
            return false()
        return Incident.organisation_id == actor.organisation_id
    if sees_all_red(actor):
        return true()
    return or_(
        Incident.tlp != RED,
        Incident.assignee_id == actor.user_id,
        exists(
            select(IncidentParticipant.incident_id).where(
                IncidentParticipant.incident_id == Incident.id,
                IncidentParticipant.user_id == actor.user_id,
            )
        ),
    )


def can_see(actor: Actor, incident: Incident) -> bool:
    """The Python twin of :func:`visible` for an incident already loaded."""
    if not actor.is_cert_staff:
        own = actor.organisation_id
        return own is not None and incident.organisation_id == own
    if incident.tlp != RED or sees_all_red(actor):
        return True
    if actor.user_id is not None and incident.assignee_id == actor.user_id:
        return True
    return any(p.user_id == actor.user_id for p in incident.participants)
