"""Linked and merged incidents (Flask-free use cases).

* :func:`link` / :func:`unlink`: two incidents an analyst relates ("related"), one row per
  direction.
* :func:`merge`: ``other`` is a duplicate of ``survivor``. Its observables (deduplicated, sources
  joined), tasks and timeline move to the survivor; it becomes ``duplicate`` with
  ``duplicate_of_id`` set; both timelines get a "merged" event. Rules: both must be visible to
  the analyst; ``other`` must be allowed to become ``duplicate`` (not resolved or closed); an
  incident cannot be merged into one with a less strict TLP (its data would reach a wider
  audience); events of another organisation's incident become internal on the survivor, so that
  no reporter ever reads another organisation's correspondence.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from cert import audit
from cert.auth.authz import Actor
from cert.clock import Clock
from cert.errors import NotFound, ValidationFailed
from cert.markings import Tlp
from incidents.access import can_see, visible
from incidents.models import (
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentLink,
    IncidentStatus,
    IncidentTask,
)
from incidents.services import IntakeSettings, add_event
from incidents.signals import incident_merged
from incidents.workflow import record_change, require_staff

MAX_LINKS = 100


def linked_incidents(session: Session, actor: Actor, incident: Incident) -> list[Incident]:
    """The incidents linked to ``incident`` that the actor may see (by reference)."""
    query = (
        select(Incident)
        .join(IncidentLink, IncidentLink.linked_id == Incident.id)
        .where(IncidentLink.incident_id == incident.id, visible(actor))
        .order_by(Incident.reference)
        .limit(MAX_LINKS)
    )
    return list(session.scalars(query))


def link(
    session: Session, actor: Actor, incident: Incident, other: Incident, *, clock: Clock
) -> IncidentLink:
    """Relate two incidents (both already loaded with ``get_incident``); idempotent."""
    require_staff(actor, "linking incidents")
    _check_pair(actor, incident, other, "reference")
    existing = session.get(IncidentLink, (incident.id, other.id))
    if existing is not None:
        return existing
    now = clock.now()
    rows = [
        IncidentLink(
            incident_id=a.id,
            linked_id=b.id,
            kind="related",
            created_at=now,
            created_by_id=actor.user_id,
        )
        for a, b in ((incident, other), (other, incident))
    ]
    session.add_all(rows)
    record_change(session, actor, incident, "linked", {"reference": other.reference}, clock=clock)
    record_change(session, actor, other, "linked", {"reference": incident.reference}, clock=clock)
    return rows[0]


def unlink(
    session: Session, actor: Actor, incident: Incident, other: Incident, *, clock: Clock
) -> None:
    require_staff(actor, "unlinking incidents")
    removed = session.execute(
        delete(IncidentLink).where(
            or_(
                (IncidentLink.incident_id == incident.id) & (IncidentLink.linked_id == other.id),
                (IncidentLink.incident_id == other.id) & (IncidentLink.linked_id == incident.id),
            )
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"{incident.reference} is not linked to {other.reference}")
    record_change(session, actor, incident, "unlinked", {"reference": other.reference}, clock=clock)
    record_change(session, actor, other, "unlinked", {"reference": incident.reference}, clock=clock)


def merge(
    session: Session,
    actor: Actor,
    survivor: Incident,
    other: Incident,
    *,
    clock: Clock,
    settings: IntakeSettings,
) -> None:
    """Fold ``other`` into ``survivor`` (see the module docstring)."""
    require_staff(actor, "merging incidents")
    _check_pair(actor, survivor, other, "into")
    if IncidentStatus.DUPLICATE not in TRANSITIONS[IncidentStatus(other.status)]:
        raise ValidationFailed(
            "cannot merge", fields={"status": f"a {other.status} incident cannot be merged"}
        )
    if survivor.status == IncidentStatus.DUPLICATE:
        raise ValidationFailed(
            "cannot merge", fields={"into": f"{survivor.reference} is itself a duplicate"}
        )
    if not Tlp(survivor.tlp).at_least_as_strict_as(Tlp(other.tlp)):
        raise ValidationFailed(
            "TLP would widen",
            fields={
                "into": f"{survivor.reference} is {survivor.tlp}, less strict than {other.tlp}"
            },
        )
    moved = _move_observables(survivor, other)
    same_organisation = survivor.organisation_id == other.organisation_id
    session.flush()
    tasks = session.execute(
        update(IncidentTask)
        .where(IncidentTask.incident_id == other.id)
        .values(incident_id=survivor.id)
    ).rowcount  # type: ignore[attr-defined]
    values: dict[str, object] = {"incident_id": survivor.id}
    if not same_organisation:
        values["public"] = False
    events = session.execute(
        update(IncidentEvent).where(IncidentEvent.incident_id == other.id).values(**values)
    ).rowcount  # type: ignore[attr-defined]
    now = clock.now()
    other.status, other.duplicate_of_id, other.updated_at = (
        IncidentStatus.DUPLICATE,
        survivor.id,
        now,
    )
    summary = {"observables": moved, "tasks": tasks, "events": events}
    add_event(
        session,
        other,
        actor,
        "merged",
        clock=clock,
        public=True,
        data={"into": survivor.reference} if same_organisation else {},
    )
    record_change(
        session, actor, survivor, "merged", {"from": other.reference, **summary}, clock=clock
    )
    audit.record(
        session,
        actor,
        "incident.merge",
        "incident",
        other.reference,
        clock=clock,
        before={"status": IncidentStatus(other.status)},
        after={"into": survivor.reference, **summary},
    )
    incident_merged.send(survivor, session=session, actor=actor, duplicate=other)


def _check_pair(actor: Actor, incident: Incident, other: Incident, field: str) -> None:
    if not can_see(actor, incident) or not can_see(actor, other):
        raise NotFound("no such incident")
    if incident.id == other.id:
        raise ValidationFailed("same incident", fields={field: "an incident cannot be its own"})


def _move_observables(survivor: Incident, other: Incident) -> int:
    """Re-point ``other``'s observables to the survivor; those it has already are merged
    (sources joined) and deleted. Returns how many moved."""
    existing = {(o.type, o.value): o for o in survivor.observables}
    moved = 0
    for observable in list(other.observables):
        twin = existing.get((observable.type, observable.value))
        if twin is None:
            observable.incident = survivor
            moved += 1
        else:
            twin.sources = [
                *twin.sources,
                *(s for s in observable.sources if s not in twin.sources),
            ]
            other.observables.remove(observable)  # delete-orphan
    return moved
