"""What the incident file shows, read in a fixed number of queries whatever the incident's size.

The page of :mod:`incidents.workspace.web` is assembled here: the incident (already checked by
``get_incident``), one page of its timeline, its tasks, linked incidents, possible duplicates,
participants and the CERT staff offered in the selects. Related incidents are filtered with
``incidents.access.visible`` like every other list. The observables' marks, where else each was
seen and the possible campaign come from :mod:`incidents.observables.connections`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.centres import list_centres
from core.identity.authz import Actor
from core.identity.centres import Centre
from core.identity.models import CERT_ROLES, User
from feeds.rules.refang import defang
from incidents.access import can_work, visible
from incidents.intel.panel import IntelPanel, intel_panel
from incidents.models import (
    Incident,
    IncidentParticipant,
    IncidentTask,
)
from incidents.named import EventView, event_views
from incidents.observables import connections
from incidents.observables.scope import Mark
from incidents.origins import Origin, origins_of
from incidents.rules.sla import Deadline, sla
from incidents.workspace import conversation, merge, tasks

TIMELINE_PAGE = 50
MAX_STAFF = 500  # CERT staff offered in the selects (a national CERT has dozens)
MAX_RELATED = 50


@dataclass(frozen=True)
class FilePage:
    incident: Incident
    events: list[EventView]  # references the viewer may not see left out
    older: int | None  # ``before`` of the next timeline page, if any
    tasks: list[IncidentTask]
    links: list[Incident]
    duplicates: list[Incident]
    duplicate_of: Incident | None
    participants: list[User]
    staff: list[User]
    reporter: User | None
    deadlines: list[Deadline]
    origins: dict[int, Origin]  # observable id → the incident a merge brought it from
    connected: Connected = field(default_factory=lambda: Connected({}, {}, []))
    intel: IntelPanel = field(default_factory=IntelPanel)  # sightings, known-benign values
    centres: list[Centre] = field(default_factory=list)  # every centre (panel, selects, timeline)
    can_work: bool = False  # the actor may act on it (not only through a read-only share)


@dataclass(frozen=True)
class Connected:
    """The observables' marks, where else each was seen, and the possible campaign."""

    marks: dict[int, Mark]  # observable id → external, private, the constituency's own…
    seen: dict[int, connections.Seen]  # observable id → other incidents (external ones only)
    campaign: list[tuple[Incident, list[str]]]  # other organisations' open incidents, values
    defanged: dict[int, str] = field(default_factory=dict)  # observable id → for sharing


def load(
    session: Session, actor: Actor, incident: Incident, *, now: dt.datetime, before: int | None
) -> FilePage:
    events = conversation.timeline(
        session, actor, incident, public_only=False, limit=TIMELINE_PAGE + 1, before_id=before
    )
    older = events[TIMELINE_PAGE - 1].id if len(events) > TIMELINE_PAGE else None
    return FilePage(
        incident=incident,
        events=event_views(session, actor, events[:TIMELINE_PAGE]),
        older=older,
        tasks=tasks_of(session, incident),
        links=merge.linked_incidents(session, actor, incident),
        duplicates=_by_reference(session, actor, incident.possible_duplicates),
        duplicate_of=_duplicate_of(session, actor, incident),
        participants=participants_of(session, incident),
        staff=active_staff(session),
        reporter=session.get(User, incident.reporter_id) if incident.reporter_id else None,
        deadlines=sla(incident, now),
        origins=origins_of(session, actor, incident),
        connected=connected(session, actor, incident),
        intel=intel_panel(session, actor, incident),
        centres=list_centres(session),
        can_work=can_work(actor, incident),
    )


def connected(session: Session, actor: Actor, incident: Incident) -> Connected:
    observables = list(incident.observables)
    marks = connections.marks_of(observables, connections.load_constituency(session))
    return Connected(
        marks=marks,
        seen=connections.seen_in(session, actor, incident, observables, marks),
        campaign=connections.campaign(session, actor, incident, observables, marks),
        defanged={o.id: defang(o.type, o.value) for o in observables},
    )


def tasks_of(session: Session, incident: Incident) -> list[IncidentTask]:
    return list(session.scalars(tasks.task_list(incident)))


def _by_reference(session: Session, actor: Actor, references: list[str]) -> list[Incident]:
    if not references:
        return []
    query = (
        select(Incident)
        .where(Incident.reference.in_(references[:MAX_RELATED]), visible(actor))
        .order_by(Incident.reference.desc())
    )
    return list(session.scalars(query))


def _duplicate_of(session: Session, actor: Actor, incident: Incident) -> Incident | None:
    if incident.duplicate_of_id is None:
        return None
    query = select(Incident).where(Incident.id == incident.duplicate_of_id, visible(actor))
    return session.scalar(query)


def participants_of(session: Session, incident: Incident) -> list[User]:
    query = (
        select(User)
        .join(IncidentParticipant, IncidentParticipant.user_id == User.id)
        .where(IncidentParticipant.incident_id == incident.id)
        .order_by(User.name)
    )
    return list(session.scalars(query))


def active_staff(session: Session) -> list[User]:
    """Active CERT staff, by name: who may be assigned or named on an incident."""
    query = (
        select(User)
        .where(User.role.in_(CERT_ROLES), User.is_active.is_(True))
        .order_by(User.name, User.id)
        .limit(MAX_STAFF)
    )
    return list(session.scalars(query))
