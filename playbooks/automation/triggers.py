"""After-incident playbooks started by incident events (Flask-free use case).

:func:`start_triggered_runs` takes an incident and the kind of event that happened to it
(:class:`~playbooks.models.TriggerEvent`), reads in one query every enabled trigger of that kind
whose playbook's current version is enabled and not revoked, and starts a run of that version
for each trigger whose conditions hold (:func:`playbooks.rules.triggering.matches`). Each run's
dedupe key is ``trigger:<trigger id>:event:<event id>``: an event delivered again starts nothing
twice, and a trigger never starts a playbook on an incident that already has a run of it (of any
version, in any state): an incident created and then classified does not run the same playbook
twice, and a playbook whose ``create-incident`` opens an incident its own trigger matches does
not start again on it (the run points at the incident it opened) — an analyst can still start it
again by hand. The runs start ``pending``; the scheduler's ``playbooks.advance`` job takes them
on. The handler that calls this on each event is :mod:`playbooks.automation.handlers`.
"""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.identity.authz import Actor
from incidents.models import Incident, IncidentStatus
from playbooks.engine.runs import start_run
from playbooks.models import Playbook, PlaybookRun, PlaybookTrigger, RunOrigin, TriggerEvent
from playbooks.rules.triggering import IncidentFacts, matches
from playbooks.settings import PlaybookSettings

SYSTEM = Actor.system("playbooks:trigger")  # who starts triggered runs


def dedupe_key(trigger: PlaybookTrigger, event_id: int) -> str:
    return f"trigger:{trigger.id}:event:{event_id}"


def facts_of(incident: Incident, *, status: IncidentStatus | None = None) -> IncidentFacts:
    """The incident as conditions see it; ``status`` overrides its current status (the status
    event's new one)."""
    return IncidentFacts(
        category=incident.category,
        type=incident.type,
        priority=str(incident.priority),
        tlp=str(incident.tlp),
        organisation_id=incident.organisation_id,
        sector=incident.organisation.sector,
        status=str(status or incident.status),
        centre=incident.centre.slug if incident.centre_id is not None else None,
    )


def armed_triggers(session: Session, kind: TriggerEvent) -> list[tuple[PlaybookTrigger, Playbook]]:
    """The enabled triggers of ``kind`` with the current version of their playbook, when it is
    enabled and not revoked (one query, in the order they were created)."""
    query = (
        select(PlaybookTrigger, Playbook)
        .join(
            Playbook,
            and_(Playbook.cacao_id == PlaybookTrigger.cacao_id, Playbook.current.is_(True)),
        )
        .where(
            PlaybookTrigger.event == kind,
            PlaybookTrigger.enabled.is_(True),
            Playbook.enabled.is_(True),
            Playbook.revoked.is_(False),
        )
        .order_by(PlaybookTrigger.id)
    )
    return [(trigger, playbook) for trigger, playbook in session.execute(query)]


def start_triggered_runs(
    session: Session,
    incident: Incident,
    kind: TriggerEvent,
    *,
    event_id: int,
    clock: Clock,
    settings: PlaybookSettings,
    status: IncidentStatus | None = None,
) -> list[PlaybookRun]:
    """Start the playbooks the event ``event_id`` of ``kind`` on ``incident`` triggers; the runs
    started now (not those this event already started)."""
    facts = facts_of(incident, status=status)
    started: list[PlaybookRun] = []
    ran = set(
        session.scalars(
            select(Playbook.cacao_id)
            .select_from(PlaybookRun)
            .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
            .where(PlaybookRun.incident_id == incident.id)  # ix_playbook_runs_incident
        )
    )
    for trigger, playbook in armed_triggers(session, kind):
        if playbook.cacao_id in ran or not matches(trigger.conditions or {}, facts):
            continue
        run = start_run(
            session,
            playbook,
            origin=RunOrigin.TRIGGER,
            dedupe_key=dedupe_key(trigger, event_id),
            actor=SYSTEM,
            clock=clock,
            settings=settings,
            incident=incident,
            trigger=trigger,
        )
        if run is not None:
            started.append(run)
            ran.add(playbook.cacao_id)
    return started
