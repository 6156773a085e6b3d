"""The authoring feature's subscriber to another slice's event (Flask-free), listed in
:data:`bulletins.handlers.HANDLERS` and run by the scheduler's ``events.deliver`` job.

``bulletins.draft_requested`` takes ``playbook.bulletin_requested`` (recorded by a playbook's
``request-bulletin`` step; the playbooks slice sits above this one, so it is subscribed to by the
name the playbooks slice registers in :mod:`core.events`, and its payload is read as a plain
dict): when the event names an incident, a draft alert is written from it as the system
(:func:`bulletins.authoring.sources.draft_from_incidents`, at the incident's TLP, with only the
indicators that label allows). A run gets one draft: its ``source_ref`` is
``playbook-run:<run id>``, and a redelivery that finds it writes nothing. The leads were already
told by the playbook step itself.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bulletins.authoring.sources import draft_from_incidents
from bulletins.models import Bulletin, BulletinKind
from core.clock import SystemClock
from core.events import Event, EventName, Handler
from core.identity.authz import Actor
from incidents.models import Incident

log = logging.getLogger(__name__)
ACTOR = Actor.system("bulletins:playbook")


class Watched(EventName):
    """Names registered by slices above this one (compared by value with theirs)."""

    BULLETIN_REQUESTED = "playbook.bulletin_requested"


def source_ref(run_id: int) -> str:
    return f"playbook-run:{run_id}"


def draft_requested(session: Session, event: Event) -> None:
    payload = event.payload.model_dump()
    run_id, incident_id = int(payload["run_id"]), payload.get("incident_id")
    if incident_id is None:
        return
    ref = source_ref(run_id)
    if session.scalar(select(Bulletin.id).where(Bulletin.source_ref == ref)) is not None:
        return  # a redelivery: this run's draft exists
    incident = session.get(Incident, int(incident_id))
    if incident is None:
        log.warning("playbook run %s asked for a bulletin about a deleted incident", run_id)
        return
    draft_from_incidents(
        session,
        ACTOR,
        [incident.id],
        kind=BulletinKind.ALERT,
        tlp=str(incident.tlp),
        clock=SystemClock(),
        source_ref=ref,
    )


HANDLERS: tuple[Handler, ...] = (
    Handler("bulletins.draft_requested", {Watched.BULLETIN_REQUESTED}, draft_requested),
)
