"""The attention rule: a strong sighting raises an incident's priority one step (Flask-free).

The rule, precisely — when sightings are recorded (on arrival, when an observable is added, by
retro-hunt), the incident's priority goes up one step (P4 → P3 → P2 → P1, never above P1) when
all of these hold:

* one of the *new* matches is of an indicator with confidence ≥ :data:`CONFIDENCE` (70) — the
  index only matches live indicators (not revoked, detecting, not past ``valid_until``), and
  known-benign observables (MISP warning lists) never match;
* it is the incident's *first* such sighting: an incident already seen meeting a strong
  indicator was raised then (or deliberately not), so later intelligence does not push it up
  again and again;
* the incident is open (new, triaged, in progress);
* no analyst set its priority by hand (``priority_reason`` is empty): a person's judgement
  wins over the rule;
* it is not P1 already.

The change is an internal timeline line (kind ``attention``: the old and new priority, the
indicator, its confidence and the observable), never public — the reporter sees the priority,
not why; its audit row, the SLA due dates recomputed from the policy as a manual change does,
and the domain event ``incident.priority_changed``. ``priority_reason`` stays empty: the rule
is not a hand override.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.identity.authz import Actor
from feeds.models import Indicator
from incidents import events
from incidents.actions import IncidentAction
from incidents.intel.models import IncidentMatch
from incidents.intel.sightings import timeline_line
from incidents.models import OPEN_STATUSES, Incident, IncidentStatus, Priority
from incidents.rules.priority import deadlines
from incidents.settings import IntakeSettings

CONFIDENCE = 70  # an indicator at least this confident raises attention
_STEP_UP = {Priority.P4: Priority.P3, Priority.P3: Priority.P2, Priority.P2: Priority.P1}


def raised(
    priority: Priority, status: IncidentStatus, *, hand_set: bool, strong_before: bool
) -> Priority | None:
    """The priority the rule gives an incident with a new strong sighting; ``None``: unchanged
    (pure: see the module for the rule)."""
    if hand_set or strong_before or status not in OPEN_STATUSES:
        return None
    return _STEP_UP.get(priority)


def apply_attention(
    session: Session,
    incident: Incident,
    new: Sequence[IncidentMatch],
    *,
    actor: Actor,
    clock: Clock,
    settings: IntakeSettings,
) -> Priority | None:
    """Raise ``incident``'s priority if the rule says so for its ``new`` sightings; the new
    priority, else ``None``."""
    strong = [m for m in new if m.indicator.confidence >= CONFIDENCE]
    if not strong:
        return None
    target = raised(
        incident.priority,
        incident.status,
        hand_set=bool(incident.priority_reason),
        strong_before=_strong_before(session, incident.id, [m.id for m in new]),
    )
    if target is None:
        return None
    best = max(strong, key=lambda m: (m.indicator.confidence, -m.id))
    _raise(session, incident, target, best, actor=actor, clock=clock, settings=settings)
    return target


def _strong_before(session: Session, incident_id: int, new_ids: list[int]) -> bool:
    earlier = (
        select(IncidentMatch.id)
        .join(Indicator, Indicator.id == IncidentMatch.indicator_id)
        .where(
            IncidentMatch.incident_id == incident_id,
            IncidentMatch.id.not_in(new_ids),
            Indicator.confidence >= CONFIDENCE,
        )
    )
    return bool(session.scalar(select(exists(earlier))))


def _raise(
    session: Session,
    incident: Incident,
    target: Priority,
    cause: IncidentMatch,
    *,
    actor: Actor,
    clock: Clock,
    settings: IntakeSettings,
) -> None:
    old = incident.priority
    due = deadlines(target, incident.received_at, policy=settings.sla_policy)
    incident.priority = target
    incident.ack_due_at, incident.resolve_due_at = due.acknowledge_by, due.resolve_by
    incident.updated_at = clock.now()
    indicator = cause.indicator
    data = {
        "from": old.value,
        "to": target.value,
        "confidence": indicator.confidence,
        "indicator": indicator.name or indicator.pattern or indicator.source_ref,
        "value": cause.observable.value,
        "match_id": cause.id,
    }
    session.flush()  # the incident's new priority and due dates
    event_id = timeline_line(session, incident, actor, "attention", data, now=clock.now())
    audit.record(
        session,
        actor,
        IncidentAction.PRIORITY,
        "incident",
        incident.reference,
        clock=clock,
        before={"priority": old.value},
        after={**data, "rule": "attention"},
    )
    changed = events.PriorityChanged(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=event_id,
        old=old,
        new=target,
    )
    events.record(
        session, actor, incident, events.IncidentEventName.PRIORITY_CHANGED, changed, clock=clock
    )
