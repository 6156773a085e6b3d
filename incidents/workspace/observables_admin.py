"""Observables added or removed by analysts on the incident file (Flask-free use cases)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import Conflict, NotFound, ValidationFailed, reason_of
from core.i18n import N_
from core.identity.authz import Actor
from feeds.index.benign import warning_lists
from incidents import events
from incidents.actions import IncidentAction
from incidents.intel.enrichment import enrich
from incidents.intel.models import FoundBy
from incidents.models import Incident, IncidentObservable
from incidents.observables.extraction import canonicalise_observable
from incidents.settings import IntakeSettings
from incidents.signals import incident_observable_added
from incidents.workspace.workflow import record_change, require_work

ANALYST_SOURCE = "analyst"


def add_observable(
    session: Session,
    actor: Actor,
    incident: Incident,
    type: str,  # noqa: A002 - the observable's type, as in the model
    value: str,
    *,
    clock: Clock,
    settings: IntakeSettings | None = None,
) -> IncidentObservable:
    """One indicator in canonical (refanged) form, with the incident's TLP, matched against the
    indicator index at once (unless known-benign); ``settings``: the SLA policy a raised
    priority follows (the default policy when none)."""
    require_work(actor, incident, "adding observables")
    try:
        found = canonicalise_observable(type, value)
    except ValueError as exc:
        raise ValidationFailed("invalid observable", fields={"value": reason_of(exc)}) from None
    key = (found.type.value, found.value)
    if any((o.type, o.value) == key for o in incident.observables):
        already = N_("%(value)s is already recorded", value=found.value)
        raise Conflict("already recorded", fields={"value": already})
    observable = IncidentObservable(
        type=key[0],
        value=key[1],
        sources=[ANALYST_SOURCE],
        tlp=incident.tlp,
        created_at=clock.now(),
        warning_lists=warning_lists(*key),
    )
    incident.observables.append(observable)
    session.flush()
    data = {"id": observable.id, "type": key[0], "value": key[1]}
    event = record_change(
        session, actor, incident, IncidentAction.OBSERVABLE_ADDED, data, clock=clock
    )
    added = events.ObservableAdded(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=event.id,
        observable_id=observable.id,
        observable_type=observable.type,
    )
    events.record(
        session, actor, incident, events.IncidentEventName.OBSERVABLE_ADDED, added, clock=clock
    )
    incident_observable_added.send(
        incident, session=session, actor=actor, observable=observable, event=event
    )
    enrich(
        session,
        incident,
        [observable],
        found_by=FoundBy.OBSERVABLE,
        actor=actor,
        clock=clock,
        settings=settings or IntakeSettings(),
    )
    return observable


def remove_observable(
    session: Session, actor: Actor, incident: Incident, observable_id: int, *, clock: Clock
) -> None:
    require_work(actor, incident, "removing observables")
    observable = next((o for o in incident.observables if o.id == observable_id), None)
    if observable is None:
        raise NotFound(f"no observable {observable_id} on {incident.reference}")
    incident.observables.remove(observable)  # delete-orphan
    data = {"id": observable_id, "type": observable.type, "value": observable.value}
    record_change(session, actor, incident, IncidentAction.OBSERVABLE_REMOVED, data, clock=clock)
