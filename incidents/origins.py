"""What each side of a merge reads (Flask-free): observables by origin, and the incident a
duplicate is followed under.

A merge moves the duplicate's observables to the surviving incident; each keeps its origin
(``IncidentObservable.origin_incident_id``, ``None`` for an incident's own), hence the
organisation and TLP of the report it came from. The rule every reporter-facing view applies
(API, ``/track``, reporter PDF): **a reporter reads only observables whose origin belongs to their
organisation** — on the survivor, their own report's; on a duplicate, its own observables
wherever the merge moved them. CERT staff read every observable of an incident, with its origin
named when they may see that incident (:func:`origin_of`).

The reporter of a duplicate keeps following it (:func:`followed`): the status and dates of the
incident it was merged into, and its reference and title only when they may see it (same
organisation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.identity.authz import Actor
from core.identity.models import Role, User
from incidents.access import can_see
from incidents.models import Attachment, Incident, IncidentObservable, IncidentStatus

MAX_CHAIN = 20  # a duplicate of a duplicate of …: the merge refuses it, old data may have it


def origin_organisation(
    session: Session, observable: IncidentObservable, incident: Incident
) -> int:
    """The organisation whose report ``observable`` (held by ``incident``) came from."""
    if observable.origin_incident_id is None:
        return incident.organisation_id
    origin = session.get(Incident, observable.origin_incident_id)  # identity map: once each
    return origin.organisation_id if origin is not None else -1


def observables_for(session: Session, actor: Actor, incident: Incident) -> list[IncidentObservable]:
    """The observables of ``incident`` that ``actor`` (who may see it) may read: all of them for
    CERT staff, :func:`reported_observables` for its reporters."""
    if actor.is_cert_staff or actor.is_system:
        return list(incident.observables)
    return reported_observables(session, incident)


def reported_observables(session: Session, incident: Incident) -> list[IncidentObservable]:
    """What the reporting organisation reads of ``incident``'s observables (the status page, the
    reporter's PDF and the reporter API show this, whoever looks): those whose origin is that
    organisation's report, less those only an analyst added (an analyst's lead is the CERT's)."""
    own = incident.organisation_id
    rows = [
        o
        for o in incident.observables
        if list(o.sources or []) != ["analyst"] and origin_organisation(session, o, incident) == own
    ]
    if incident.status == IncidentStatus.DUPLICATE:  # its own report's, moved to the survivor
        moved = session.scalars(
            select(IncidentObservable)
            .where(
                IncidentObservable.origin_incident_id == incident.id,
                IncidentObservable.incident_id != incident.id,
            )
            .order_by(IncidentObservable.id)
        )
        rows += [o for o in moved if list(o.sources or []) != ["analyst"]]
    return rows


def reported_attachments(session: Session, incident: Incident) -> list[Attachment]:
    """The files the reporting organisation reads of ``incident`` (``/track``, its downloads and
    the reporter's PDF): those its own reporters sent — with the report or with an answer — and
    those of no known uploader (the e-mail intake); never a file the CERT staff uploaded (a sample,
    a capture) nor one of another organisation. One query (``ix_incident_attachments_incident_id``).
    """
    return list(
        session.scalars(
            select(Attachment)
            .outerjoin(User, User.id == Attachment.uploaded_by_id)
            .where(
                Attachment.incident_id == incident.id,
                (Attachment.uploaded_by_id.is_(None))
                | (
                    (User.role == Role.REPORTER)
                    & (User.organisation_id == incident.organisation_id)
                ),
            )
            .order_by(Attachment.id)
        )
    )


def attachments_for(session: Session, actor: Actor, incident: Incident) -> list[Attachment]:
    """The files of ``incident`` that ``actor`` (who may see it) may read: all of them for CERT
    staff, :func:`reported_attachments` for its reporters."""
    if actor.is_cert_staff or actor.is_system:
        return list(incident.attachments)
    return reported_attachments(session, incident)


@dataclass(frozen=True)
class Origin:
    """Where a merged-in observable came from, as staff see it."""

    reference: str | None  # None: an incident the viewer may not see (TLP:RED)
    organisation: str  # slug


def origin_of(session: Session, actor: Actor, observable: IncidentObservable) -> Origin | None:
    """``None`` for an incident's own observable."""
    if observable.origin_incident_id is None:
        return None
    origin = session.get(Incident, observable.origin_incident_id)
    if origin is None:
        return None
    shown = origin.reference if can_see(actor, origin) else None
    return Origin(shown, origin.organisation.slug)


def origins_of(session: Session, actor: Actor, incident: Incident) -> dict[int, Origin]:
    """Observable id → its :class:`Origin`, for those a merge brought to ``incident``."""
    found = ((o.id, origin_of(session, actor, o)) for o in incident.observables)
    return {key: origin for key, origin in found if origin is not None}


@dataclass(frozen=True)
class Followed:
    """The incident a duplicate was merged into, as the duplicate's reader may see it."""

    reference: str | None  # None when the reader may not see it (another organisation)
    title: str | None
    status: IncidentStatus
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None


def followed(session: Session, actor: Actor, incident: Incident) -> Followed | None:
    """The incident ``incident`` is followed under (``None`` unless it is a merged duplicate);
    through a chain of merges, the last one."""
    if incident.status != IncidentStatus.DUPLICATE or incident.duplicate_of_id is None:
        return None
    survivor = session.get(Incident, incident.duplicate_of_id)
    for _ in range(MAX_CHAIN):
        if survivor is None or survivor.duplicate_of_id is None:
            break
        survivor = session.get(Incident, survivor.duplicate_of_id)
    if survivor is None:
        return None
    seen = can_see(actor, survivor)
    return Followed(
        reference=survivor.reference if seen else None,
        title=survivor.title if seen else None,
        status=survivor.status,
        resolved_at=survivor.resolved_at,
        closed_at=survivor.closed_at,
    )
