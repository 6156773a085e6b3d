"""Each incident use case records its durable domain event (``incidents.events``) in its own
transaction, with a typed payload of ids and references (never an organisation's text), next to
the blinker signal; a handler subscribed to them receives them through the dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.events import DomainEvent, Event, Handler, deliver_events, events_of
from core.identity.authz import Actor
from core.identity.models import User
from core.uow import transaction
from incidents import events as incident_events
from incidents.events import IncidentEventName as Name
from incidents.models import Incident, IncidentStatus
from incidents.rules.priority import Priority
from incidents.workspace import conversation, merge, workflow
from incidents.workspace.observables_admin import add_observable
from tests.dbs import TestDatabase
from tests.incidents.workspace_helpers import events as timeline
from tests.kit.api import PHISHING, api_user, submit
from tests.kit.factories import SETTINGS, report
from tests.kit.world import World


def recorded(session: Session, incident: Incident) -> list[Event]:
    return events_of(session, "incident", incident.reference)


def last(session: Session, incident: Incident, name: Name) -> Event:
    return [e for e in recorded(session, incident) if e.name == name][-1]


def domain_event_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DomainEvent)) or 0


@contextmanager
def inserts(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.connection().engine

    def count(*args: object) -> None:
        if str(args[2]).startswith("INSERT"):
            seen.append(str(args[2]).split("(")[0].strip())

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


# ------------------------------------------------------------------ intake
def test_a_submission_records_incident_submitted_with_one_more_insert(
    db_session: Session, clock: FrozenClock, reporter: User
) -> None:
    at = clock.now()
    with inserts(db_session) as seen:
        incident = report(db_session, clock, reporter)
    assert seen == [  # one INSERT per table, the event's the only one added
        "INSERT INTO incident_reference_counters",  # the year's first reference
        "INSERT INTO incidents",
        "INSERT INTO incident_daily",  # the dashboard's aggregate (incidents.daily)
        "INSERT INTO incident_daily_classes",
        "INSERT INTO incident_observables",
        "INSERT INTO incident_events",
        "INSERT INTO audit_log",
        "INSERT INTO outbox_messages",
        "INSERT INTO domain_events",
    ]
    [submitted] = recorded(db_session, incident)
    assert submitted.name is Name.SUBMITTED
    assert submitted.payload == incident_events.Submitted(
        incident_id=incident.id,
        reference=incident.reference,
        organisation_id=reporter.organisation_id,
        priority=Priority.P2,
        tlp="TLP:AMBER",
        category="fraud",
        type="phishing",
        observable_ids=[o.id for o in incident.observables],
    )
    assert len(submitted.payload.observable_ids) == 5  # type: ignore[attr-defined]
    assert (submitted.actor_id, submitted.actor_label) == (reporter.id, None)
    assert submitted.occurred_at == at


def test_a_submission_rolled_back_with_its_savepoint_leaves_no_event(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    before = domain_event_count(db_session)
    savepoint = db_session.begin_nested()  # as submit_once does around submit_incident
    report(db_session, clock, world.reporter)
    assert domain_event_count(db_session) == before + 1
    savepoint.rollback()
    assert domain_event_count(db_session) == before


def test_an_api_submission_replayed_with_its_idempotency_key_records_one_event(
    client: FlaskClient, db_session: Session, clock: FrozenClock, interieur: object
) -> None:
    _, secret = api_user(db_session, clock, interieur)  # type: ignore[arg-type]
    first = submit(client, secret, PHISHING, **{"Idempotency-Key": "once"})
    again = submit(client, secret, PHISHING, **{"Idempotency-Key": "once"})
    assert (first.status_code, again.status_code) == (201, 200)
    reference = first.get_json()["reference"]
    assert again.get_json()["reference"] == reference
    names = [e.name for e in events_of(db_session, "incident", reference)]
    assert names == [Name.SUBMITTED]


# ------------------------------------------------------------------ workspace
def test_status_changes_and_closing_record_their_events(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    analyst = world.actor(world.analyst)
    incident = report(db_session, clock, world.reporter)
    triaged = workflow.change_status(
        db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS
    )
    assert last(db_session, incident, Name.STATUS_CHANGED).payload == (
        incident_events.StatusChanged(
            incident_id=incident.id,
            reference=incident.reference,
            timeline_event_id=triaged.id,
            old=IncidentStatus.NEW,
            new=IncidentStatus.TRIAGED,
        )
    )
    assert Name.CLOSED not in [e.name for e in recorded(db_session, incident)]
    with pytest.raises(ValidationFailed):  # refused: nothing recorded
        workflow.change_status(db_session, analyst, incident, "new", clock=clock, settings=SETTINGS)
    for status in ("in_progress", "resolved"):
        workflow.change_status(
            db_session,
            analyst,
            incident,
            status,
            resolution="Blocked.",
            clock=clock,
            settings=SETTINGS,
            assignee=world.analyst,  # resolving names the owner: assigned first
        )
    closed = workflow.change_status(
        db_session, analyst, incident, "closed", clock=clock, settings=SETTINGS
    )
    names = [e.name for e in recorded(db_session, incident)]
    assert names == [
        Name.SUBMITTED,
        *[Name.STATUS_CHANGED] * 2,
        Name.ASSIGNED,
        Name.STATUS_CHANGED,
        Name.STATUS_CHANGED,
        Name.CLOSED,
    ]
    closing = last(db_session, incident, Name.CLOSED)
    assert closing.payload == incident_events.Closed(
        incident_id=incident.id, reference=incident.reference, timeline_event_id=closed.id
    )
    assert closing.actor_id == world.analyst.id


def test_assignment_events_carry_user_ids(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    analyst = world.actor(world.analyst)
    incident = report(db_session, clock, world.reporter)
    steps = [world.analyst, world.analyst2, None]
    lines = [workflow.assign(db_session, analyst, incident, u, clock=clock) for u in steps]
    assigned = [e for e in recorded(db_session, incident) if e.name is Name.ASSIGNED]
    ids = [u.id if u else None for u in steps]
    assert [e.payload for e in assigned] == [
        incident_events.Assigned(
            incident_id=incident.id,
            reference=incident.reference,
            timeline_event_id=line.id,
            old_assignee_id=old,
            new_assignee_id=new,
        )
        for line, old, new in zip(lines, [None, *ids[:-1]], ids, strict=True)
    ]


def test_a_priority_override_records_old_and_new(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    line = workflow.set_priority(
        db_session,
        world.actor(world.lead),
        incident,
        "p1",
        "Minister's mailbox",
        clock=clock,
        settings=SETTINGS,
    )
    changed = last(db_session, incident, Name.PRIORITY_CHANGED)
    assert changed.payload == incident_events.PriorityChanged(
        incident_id=incident.id,
        reference=incident.reference,
        timeline_event_id=line.id,
        old=Priority.P2,
        new=Priority.P1,
    )
    assert changed.actor_id == world.lead.id


def test_messages_record_their_timeline_line_but_never_their_text(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    analyst = world.actor(world.analyst)
    incident = report(db_session, clock, world.reporter)
    comment = conversation.add_comment(db_session, analyst, incident, "Seen before", clock=clock)
    reply = conversation.reply_to_reporter(
        db_session, analyst, incident, "Please send the headers", clock=clock, settings=SETTINGS
    )
    answer = conversation.reporter_answer(
        db_session, world.actor(world.reporter), incident, "Headers attached", clock=clock
    )
    got = {e.name: e for e in recorded(db_session, incident)}
    for name, line, actor in [
        (Name.COMMENTED, comment, world.analyst),
        (Name.REPLIED, reply, world.analyst),
        (Name.REPORTER_ANSWERED, answer, world.reporter),
    ]:
        assert got[name].payload.model_dump() == {
            "incident_id": incident.id,
            "reference": incident.reference,
            "timeline_event_id": line.id,
        }
        assert got[name].actor_id == actor.id


def test_an_added_observable_is_recorded_by_id_and_type(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter)
    observable = add_observable(
        db_session, world.actor(world.analyst), incident, "ipv4", "203.0.113[.]9", clock=clock
    )
    [line] = timeline(db_session, incident, "observable_added")
    assert last(db_session, incident, Name.OBSERVABLE_ADDED).payload == (
        incident_events.ObservableAdded(
            incident_id=incident.id,
            reference=incident.reference,
            timeline_event_id=line.id,
            observable_id=observable.id,
            observable_type="ipv4",
        )
    )


def test_a_merge_is_recorded_on_the_survivor(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter)
    other = report(db_session, clock, world.reporter)
    merge.merge(
        db_session, world.actor(world.analyst), survivor, other, clock=clock, settings=SETTINGS
    )
    merged = last(db_session, survivor, Name.MERGED)
    payload = merged.payload
    assert isinstance(payload, incident_events.Merged)
    assert (payload.incident_id, payload.reference) == (survivor.id, survivor.reference)
    assert (payload.duplicate_id, payload.duplicate_reference) == (other.id, other.reference)
    assert payload.same_organisation and payload.events == 1  # the duplicate's "created"
    assert Name.MERGED not in [e.name for e in recorded(db_session, other)]


# ------------------------------------------------------------------ delivery
def test_a_subscribed_handler_receives_the_incident_events_once(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    factory = sessionmaker(bind=fresh_database.engine, expire_on_commit=False)
    clock = FrozenClock()
    with transaction(factory) as session:
        world = World(session, clock)
        incident = report(session, clock, world.reporter)
        workflow.assign(
            session, Actor.for_user(world.analyst), incident, world.analyst, clock=clock
        )
        reference = incident.reference
    with factory() as session:  # a rolled-back change: its event is never delivered
        doomed = session.get_one(Incident, incident.id)
        workflow.assign(session, Actor.for_user(world.analyst), doomed, None, clock=clock)
        session.rollback()
    received: list[tuple[str, int | None]] = []

    def notify(session: Session, event: Event) -> None:
        payload = event.payload
        assert isinstance(payload, incident_events.IncidentPayload)
        assert session.get_one(Incident, payload.incident_id).reference == event.aggregate_id
        received.append((event.name.value, getattr(payload, "new_assignee_id", None)))

    handler = Handler("notify", {Name.SUBMITTED, Name.ASSIGNED}, notify)
    for _ in range(2):
        deliver_events(factory, [handler], clock=clock)
    assert received == [("incident.submitted", None), ("incident.assigned", world.analyst.id)]
    assert reference.startswith("MACERT-")
