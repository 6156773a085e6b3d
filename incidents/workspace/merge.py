"""Linked and merged incidents (Flask-free use cases).

* :func:`link` / :func:`unlink`: two incidents an analyst relates ("related"), one row per
  direction.
* :func:`merge`: ``other`` is a duplicate of ``survivor``. Its observables, tasks and timeline
  move to the survivor; it becomes ``duplicate`` with ``duplicate_of_id`` set; both timelines
  get a "merged" event. Rules:

  - both must be visible to the analyst; ``other`` must be allowed to become ``duplicate`` (not
    resolved or closed);
  - an incident is never merged into one with a less strict TLP (its data would reach a wider
    audience), whoever asks: raise the survivor's TLP first;
  - incidents of **different organisations** are merged by a lead only, who confirms by naming
    both organisations (``confirm_organisations``, their slugs); analysts cannot;
  - each moved observable keeps its origin incident (``origin_incident_id``), so reporters read
    only their own organisation's (:mod:`incidents.origins`); an observable both reports hold is
    joined (sources merged) only when both come from the same organisation, otherwise the
    duplicate keeps its own row;
  - events of another organisation's incident become internal on the survivor, and the
    duplicate's public "merged" event names the survivor only within one organisation, so that
    no reporter ever reads another organisation's reference or correspondence.

  Attachments stay with the incident they were sent with (its reporter and the CERT download
  them there).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import InvalidTransition, Message, NotFound, PermissionDenied, ValidationFailed
from core.i18n import N_
from core.identity.authz import Actor, at_least
from core.identity.models import Role
from incidents import events as domain_events
from incidents.access import can_see, visible
from incidents.actions import IncidentAction
from incidents.intake.service import add_event
from incidents.models import (
    TRANSITIONS,
    Incident,
    IncidentEvent,
    IncidentLink,
    IncidentObservable,
    IncidentStatus,
    IncidentTask,
)
from incidents.origins import origin_organisation
from incidents.rules import labels
from incidents.settings import IntakeSettings
from incidents.signals import incident_merged
from incidents.workspace.workflow import record_change, require_staff, require_work

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
    _check_pair(actor, incident, other, "reference", "linking incidents")
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
    record_change(
        session, actor, incident, IncidentAction.LINKED, {"reference": other.reference}, clock=clock
    )
    record_change(
        session, actor, other, IncidentAction.LINKED, {"reference": incident.reference}, clock=clock
    )
    return rows[0]


def unlink(
    session: Session, actor: Actor, incident: Incident, other: Incident, *, clock: Clock
) -> None:
    _check_pair(actor, incident, other, "reference", "unlinking incidents")
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
    record_change(
        session,
        actor,
        incident,
        IncidentAction.UNLINKED,
        {"reference": other.reference},
        clock=clock,
    )
    record_change(
        session,
        actor,
        other,
        IncidentAction.UNLINKED,
        {"reference": incident.reference},
        clock=clock,
    )


def merge(
    session: Session,
    actor: Actor,
    survivor: Incident,
    other: Incident,
    *,
    clock: Clock,
    settings: IntakeSettings,
    confirm_organisations: Collection[str] | None = None,
) -> None:
    """Fold ``other`` into ``survivor`` (see the module docstring)."""
    _check_pair(actor, survivor, other, "into", "merging incidents")
    same_organisation = survivor.organisation_id == other.organisation_id
    if not same_organisation:
        _check_across(actor, survivor, other, confirm_organisations)
    if IncidentStatus.DUPLICATE not in TRANSITIONS[other.status]:
        raise InvalidTransition(
            "cannot merge",
            fields={
                "status": N_(
                    "a %(status)s incident cannot be merged",
                    status=Message.term(other.status, labels.STATUSES[other.status]),
                )
            },
        )
    if survivor.status == IncidentStatus.DUPLICATE:
        raise ValidationFailed(
            "cannot merge",
            fields={
                "into": N_("%(reference)s is itself a duplicate", reference=survivor.reference)
            },
        )
    if not survivor.tlp.at_least_as_strict_as(other.tlp):
        raise ValidationFailed(
            "TLP would widen",
            fields={
                "into": N_(
                    "%(reference)s is %(tlp)s, less strict than %(other)s",
                    reference=survivor.reference,
                    tlp=survivor.tlp,
                    other=other.tlp,
                )
            },
        )
    moved, kept = _move_observables(session, survivor, other)
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
    now, was = clock.now(), other.status
    other.status, other.duplicate_of_id, other.updated_at = (
        IncidentStatus.DUPLICATE,
        survivor.id,
        now,
    )
    summary = {"observables": moved, "kept": kept, "tasks": tasks, "events": events}
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
        session,
        actor,
        survivor,
        IncidentAction.MERGED,
        {"from": other.reference, **summary},
        clock=clock,
    )
    audit.record(
        session,
        actor,
        IncidentAction.MERGE,
        "incident",
        other.reference,
        clock=clock,
        before={"status": was},
        after={"into": survivor.reference, **summary, **_organisations(survivor, other)},
    )
    merged = domain_events.Merged(
        incident_id=survivor.id,
        reference=survivor.reference,
        duplicate_id=other.id,
        duplicate_reference=other.reference,
        same_organisation=same_organisation,
        observables=moved,
        kept=kept,
        tasks=tasks,
        events=events,
    )
    domain_events.record(
        session, actor, survivor, domain_events.IncidentEventName.MERGED, merged, clock=clock
    )
    incident_merged.send(survivor, session=session, actor=actor, duplicate=other)


def _check_pair(actor: Actor, incident: Incident, other: Incident, field: str, what: str) -> None:
    """Both incidents seen (else ``NotFound``) and worked (else ``PermissionDenied``: a link or
    a merge writes on both timelines), and not the same."""
    require_staff(actor, what)
    if not can_see(actor, incident) or not can_see(actor, other):
        raise NotFound("no such incident")
    require_work(actor, incident, what)
    require_work(actor, other, what)
    if incident.id == other.id:
        raise ValidationFailed("same incident", fields={field: N_("an incident cannot be its own")})


def _check_across(
    actor: Actor, survivor: Incident, other: Incident, confirm: Collection[str] | None
) -> None:
    """Merging across organisations: a lead's decision, naming both organisations."""
    if not at_least(actor, Role.LEAD):
        raise PermissionDenied(N_("only a lead merges incidents of different organisations"))
    expected = [other.organisation.slug, survivor.organisation.slug]
    given = {str(slug).strip().lower() for slug in confirm or ()}
    if given != set(expected):
        raise ValidationFailed(
            "merge across organisations not confirmed",
            fields={
                "confirm_organisations": N_(
                    "%(one)s (%(one_org)s) and %(other)s (%(other_org)s) belong to different "
                    "organisations: name both to confirm, %(expected)s",
                    one=other.reference,
                    one_org=expected[0],
                    other=survivor.reference,
                    other_org=expected[1],
                    expected=str(expected),
                )
            },
        )


def _organisations(survivor: Incident, other: Incident) -> dict[str, object]:
    if survivor.organisation_id == other.organisation_id:
        return {}
    return {"organisations": [other.organisation.slug, survivor.organisation.slug]}


def _move_observables(session: Session, survivor: Incident, other: Incident) -> tuple[int, int]:
    """Re-point ``other``'s observables to the survivor, each keeping its origin. One the
    survivor holds already is joined (sources merged, the duplicate's row deleted) when both come
    from the same organisation; otherwise the duplicate keeps it. Returns (moved, kept)."""
    existing = {(o.type, o.value): o for o in survivor.observables}
    moved = kept = 0
    for observable in list(other.observables):
        twin = existing.get((observable.type, observable.value))
        if twin is None:
            observable.origin_incident_id = observable.origin_incident_id or other.id
            observable.incident = survivor
            moved += 1
        elif _same_origin(session, twin, survivor, observable, other):
            twin.sources = [
                *twin.sources,
                *(s for s in observable.sources if s not in twin.sources),
            ]
            other.observables.remove(observable)  # delete-orphan
        else:
            kept += 1
    return moved, kept


def _same_origin(
    session: Session,
    twin: IncidentObservable,
    survivor: Incident,
    observable: IncidentObservable,
    other: Incident,
) -> bool:
    return origin_organisation(session, twin, survivor) == origin_organisation(
        session, observable, other
    )
