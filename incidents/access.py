"""Who sees which incident: the one rule every page, API route, export and search applies.

* Reporters see their own organisation's incidents (never internal comments or CERT-only
  fields: views and serialisers choose what to show, this module chooses *which* incidents).
* CERT analysts see the incidents of their vigilance centres (``Actor.centres``; every centre
  for members of the national coordination centre) and those shared with one of their centres
  (:class:`~incidents.models.IncidentShare`), except ``TLP:RED`` ones; the assignee and the named
  participants see an incident whatever its centre and TLP.
* Leads (and admins, above leads) see every incident, ``TLP:RED`` included, whatever the centre.
* System actors (CLI, scheduler jobs) see everything.

Seeing is not working: :func:`can_work` / :func:`workable` also refuse an incident that an
analyst sees only through a ``read`` share (joint investigation, read-only).

:func:`visible` is the SQL form (for queues, counts, exports, search); :func:`can_see` the
Python form for one loaded incident. Both must agree: ``tests/incidents/test_access.py``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from core.errors import NotFound, PermissionDenied
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from incidents.models import Incident, IncidentParticipant, IncidentShare, ShareMode

RED = "TLP:RED"


def sees_all_red(actor: Actor) -> bool:
    """Leads, admins and the system see every ``TLP:RED`` incident."""
    return actor.is_system or (actor.is_cert_staff and at_least(actor, Role.LEAD))


def _personal(actor: Actor) -> ColumnElement[bool]:
    """Incidents the actor is assigned to or named on."""
    return or_(
        Incident.assignee_id == actor.user_id,
        exists(
            select(IncidentParticipant.incident_id).where(
                IncidentParticipant.incident_id == Incident.id,
                IncidentParticipant.user_id == actor.user_id,
            )
        ),
    )


def _named(actor: Actor) -> ColumnElement[bool]:
    """:func:`_personal` for an analyst of some centres, whose other rows are most rows: the
    participant check as ``id IN (…)``, evaluated once (PostgreSQL's hashed subplan, SQLite's
    list subquery) rather than a correlated probe per row of another centre (``bench/queue.py
    --centre``: the queue's count 2–4 times faster)."""
    named = select(IncidentParticipant.incident_id).where(
        IncidentParticipant.user_id == actor.user_id
    )
    return or_(Incident.assignee_id == actor.user_id, Incident.id.in_(named))


def in_centres(centres: frozenset[int], *modes: ShareMode) -> ColumnElement[bool]:
    """Incidents of one of ``centres``, or shared with one of them (in one of ``modes``); the
    shares as ``id IN (…)``, read once per statement (see :func:`_named`)."""
    if not centres:
        return false()
    shared = select(IncidentShare.incident_id).where(
        IncidentShare.centre_id.in_(sorted(centres)), IncidentShare.mode.in_(modes)
    )
    return or_(Incident.centre_id.in_(sorted(centres)), Incident.id.in_(shared))


def visible(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Incident` selecting what ``actor`` may see."""
    if not actor.is_cert_staff:
        if actor.organisation_id is None:
            return false()
        return Incident.organisation_id == actor.organisation_id
    if sees_all_red(actor):
        return true()
    if actor.centres is None:
        return or_(Incident.tlp != RED, _personal(actor))
    shown = in_centres(actor.centres, ShareMode.READ, ShareMode.WORK)
    return or_(and_(Incident.tlp != RED, shown), _named(actor))


def workable(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Incident`: what ``actor`` may change (bulk actions). Reporters
    work none (their replies and files go through their own use cases)."""
    if not actor.is_cert_staff:
        return false()
    if sees_all_red(actor):
        return true()
    if actor.centres is None:
        return or_(Incident.tlp != RED, _personal(actor))
    mine = in_centres(actor.centres, ShareMode.WORK)
    return or_(and_(Incident.tlp != RED, mine), _named(actor))


def _is_personal(actor: Actor, incident: Incident) -> bool:
    if actor.user_id is None:
        return False
    if incident.assignee_id == actor.user_id:
        return True
    return any(p.user_id == actor.user_id for p in incident.participants)


def _in_scope(actor: Actor, incident: Incident, *modes: ShareMode) -> bool:
    centres = actor.centres
    if centres is None:
        return True
    if incident.centre_id in centres:
        return True
    return any(s.centre_id in centres and s.mode in modes for s in incident.shares)


def can_see(actor: Actor, incident: Incident) -> bool:
    """The Python twin of :func:`visible` for an incident already loaded."""
    if not actor.is_cert_staff:
        own = actor.organisation_id
        return own is not None and incident.organisation_id == own
    if sees_all_red(actor):
        return True
    if incident.tlp != RED and _in_scope(actor, incident, ShareMode.READ, ShareMode.WORK):
        return True
    return _is_personal(actor, incident)


def can_work(actor: Actor, incident: Incident) -> bool:
    """The Python twin of :func:`workable`: CERT staff who see the incident other than through a
    ``read`` share."""
    if not actor.is_cert_staff:
        return False
    if sees_all_red(actor):
        return True
    if incident.tlp != RED and _in_scope(actor, incident, ShareMode.WORK):
        return True
    return _is_personal(actor, incident)


def require_work(actor: Actor, incident: Incident, what: str = "this action") -> None:
    """The check of every change to one incident: ``NotFound`` when ``actor`` may not even see
    it (existence is never revealed), ``PermissionDenied`` when they see it but may not work it
    (a read-only share with their centre; a reporter)."""
    if can_work(actor, incident):
        return
    if not can_see(actor, incident):
        raise NotFound(f"no incident {incident.reference}")
    raise PermissionDenied(f"{what}: {incident.reference} may be read, not worked, by this actor")
