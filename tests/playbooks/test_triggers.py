"""After-incident triggers, through the real use cases and the real dispatcher (``deliver_events``
with every slice's handlers, as the scheduler's ``events.deliver`` job runs them), on both
databases: each incident event starts the playbook attached to it, once; conditions,
disabled triggers and playbooks, revoked and newer versions, and organisations are respected."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from cert import event_handlers
from core.clock import FrozenClock
from core.events import DeliveryStatus, EventDelivery, deliver_events
from core.identity.authz import Actor
from incidents.models import Incident
from incidents.workspace import workflow
from playbooks.automation import handlers
from playbooks.automation.triggers import SYSTEM
from playbooks.library.services import import_playbook
from playbooks.models import Playbook, PlaybookRun, PlaybookTrigger, RunOrigin, RunStatus
from playbooks.models import TriggerEvent as On
from tests.kit import intel
from tests.kit.events import slice_settings
from tests.kit.factories import INFECTED_HOST, SETTINGS, report
from tests.kit.world import World
from tests.playbooks.cacao_kit import document, text

IMPORTER = Actor.system("test")


def playbook(session: Session, clock: FrozenClock, **changes: Any) -> Playbook:
    return import_playbook(session, IMPORTER, text(document(**changes)), clock=clock).playbook


def trigger(
    session: Session, clock: FrozenClock, book: Playbook, on: On, **conditions: Any
) -> PlaybookTrigger:
    row = PlaybookTrigger(
        cacao_id=book.cacao_id, event=on, conditions=conditions, created_at=clock.now()
    )
    session.add(row)
    session.flush()
    return row


def deliver(session: Session, factory: sessionmaker[Session], clock: FrozenClock) -> None:
    """Commit, then run the dispatcher once as ``events.deliver`` does."""
    session.commit()
    deliver_events(factory, event_handlers.HANDLERS, clock=clock, settings=slice_settings())
    session.expire_all()


def runs(session: Session) -> list[PlaybookRun]:
    return list(session.scalars(select(PlaybookRun).order_by(PlaybookRun.id)))


def started(session: Session) -> list[tuple[int | None, int | None]]:
    """(trigger, incident) of every run, in order."""
    return [(run.trigger_id, run.incident_id) for run in runs(session)]


def test_the_handler_is_the_slices_and_subscribes_to_the_six_events() -> None:
    [handler] = handlers.HANDLERS
    assert handler in event_handlers.HANDLERS
    assert handler.name == "playbooks.triggers"
    assert {str(name) for name in handler.events} == {
        "incident.submitted",
        "incident.classified",
        "incident.priority_changed",
        "incident.markings_changed",
        "incident.status_changed",
        "incident.intel_matched",
    }


def test_each_event_starts_the_playbook_attached_to_it(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    books = {on: playbook(db_session, clock, name=f"On {on}") for on in On}
    hooks = {
        On.CREATED: trigger(db_session, clock, books[On.CREATED], On.CREATED),
        On.CLASSIFIED: trigger(
            db_session, clock, books[On.CLASSIFIED], On.CLASSIFIED, types=["infected-system"]
        ),
        On.PRIORITY: trigger(db_session, clock, books[On.PRIORITY], On.PRIORITY, min_priority="P1"),
        On.MARKINGS: trigger(db_session, clock, books[On.MARKINGS], On.MARKINGS, tlp=["TLP:RED"]),
        On.STATUS: trigger(db_session, clock, books[On.STATUS], On.STATUS, statuses=["triaged"]),
        On.INTEL_MATCH: trigger(db_session, clock, books[On.INTEL_MATCH], On.INTEL_MATCH),
    }
    analyst = Actor.for_user(world.analyst)

    incident = report(db_session, clock, world.reporter)
    deliver(db_session, session_factory, clock)
    assert started(db_session) == [(hooks[On.CREATED].id, incident.id)]
    [run] = runs(db_session)
    assert (run.origin, run.status, run.playbook_id) == (
        RunOrigin.TRIGGER,
        RunStatus.PENDING,
        books[On.CREATED].id,
    )
    assert run.organisation_id == incident.organisation_id and run.started_by_id is None
    assert run.dedupe_key.startswith(f"trigger:{hooks[On.CREATED].id}:event:")
    assert SYSTEM.label == "playbooks:trigger"

    steps = [
        (On.CLASSIFIED, lambda: workflow.reclassify(
            db_session, analyst, incident, "malicious-code", "infected-system", clock=clock)),
        (On.PRIORITY, lambda: workflow.set_priority(
            db_session, analyst, incident, "P1", "ministry down", clock=clock, settings=SETTINGS)),
        (On.MARKINGS, lambda: workflow.set_markings(
            db_session, analyst, incident, "TLP:RED", "PAP:RED", clock=clock)),
        (On.STATUS, lambda: workflow.change_status(
            db_session, analyst, incident, "triaged", clock=clock, settings=SETTINGS)),
    ]  # fmt: skip
    for on, change in steps:
        change()
        deliver(db_session, session_factory, clock)
        assert started(db_session)[-1] == (hooks[on].id, incident.id), on
        assert runs(db_session)[-1].playbook_id == books[on].id
    assert len(runs(db_session)) == 5

    # the status trigger wants "triaged": the next move starts nothing
    workflow.change_status(db_session, analyst, incident, "in_progress", clock=clock,
                           settings=SETTINGS)  # fmt: skip
    deliver(db_session, session_factory, clock)
    assert len(runs(db_session)) == 5

    # a threat match found on arrival: the match trigger, besides the created one
    intel.indicator(db_session, "ipv4", "198.51.100.0/24", name="Botnet", confidence=40)
    matched = report(db_session, clock, world.reporter, INFECTED_HOST)
    deliver(db_session, session_factory, clock)
    assert started(db_session)[5:] == [
        (hooks[On.CREATED].id, matched.id),
        (hooks[On.INTEL_MATCH].id, matched.id),
    ]


def test_conditions_not_met_start_nothing(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    book = playbook(db_session, clock)
    trigger(db_session, clock, book, On.CREATED, categories=["malicious-code"])
    trigger(db_session, clock, book, On.CREATED, min_priority="P1")  # the phishing report is P2
    trigger(db_session, clock, book, On.CREATED, sectors=["health"])  # the reporter's: government
    trigger(db_session, clock, book, On.CREATED, unknown=["x"])  # cannot be checked
    trigger(db_session, clock, book, On.CLASSIFIED)  # another event
    report(db_session, clock, world.reporter)
    deliver(db_session, session_factory, clock)
    assert runs(db_session) == []
    assert _deliveries(db_session, "playbooks.triggers") == {DeliveryStatus.DONE}


def test_disabled_triggers_and_disabled_or_revoked_playbooks_start_nothing(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    off = trigger(db_session, clock, playbook(db_session, clock), On.CREATED)
    off.enabled = False
    disabled = playbook(db_session, clock)
    trigger(db_session, clock, disabled, On.CREATED)
    disabled.enabled = False
    revoked = playbook(db_session, clock, modified="2026-11-01T08:00:00.000Z")
    trigger(db_session, clock, revoked, On.CREATED)
    playbook(db_session, clock, pid=revoked.cacao_id, modified="2026-11-02T08:00:00.000Z",
             revoked=True)  # fmt: skip
    live = trigger(db_session, clock, playbook(db_session, clock), On.CREATED)
    incident = report(db_session, clock, world.reporter)
    deliver(db_session, session_factory, clock)
    assert started(db_session) == [(live.id, incident.id)]


def test_a_redelivered_event_starts_no_second_run(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    hook = trigger(db_session, clock, playbook(db_session, clock), On.CREATED)
    incident = report(db_session, clock, world.reporter)
    deliver(db_session, session_factory, clock)
    assert started(db_session) == [(hook.id, incident.id)]
    # the delivery due again (as after a crash between the handler and the mark)
    db_session.execute(
        update(EventDelivery)
        .where(EventDelivery.handler == "playbooks.triggers")
        .values(status=DeliveryStatus.PENDING, delivered_at=None)
    )
    deliver(db_session, session_factory, clock)
    assert _deliveries(db_session, "playbooks.triggers") == {DeliveryStatus.DONE}
    assert started(db_session) == [(hook.id, incident.id)]


def test_the_newest_imported_version_is_the_one_started(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    first = playbook(db_session, clock, modified="2026-11-01T08:00:00.000Z")
    trigger(db_session, clock, first, On.CREATED)
    newer = playbook(db_session, clock, pid=first.cacao_id, modified="2026-11-03T08:00:00.000Z")
    playbook(db_session, clock, pid=first.cacao_id, modified="2026-11-02T08:00:00.000Z")  # older
    report(db_session, clock, world.reporter)
    deliver(db_session, session_factory, clock)
    [run] = runs(db_session)
    assert run.playbook_id == newer.id != first.id


def test_a_trigger_for_one_organisation_never_starts_on_anothers_incident(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    hook = trigger(
        db_session, clock, playbook(db_session, clock), On.CREATED,
        organisation_ids=[world.interieur.id],
    )  # fmt: skip
    theirs = report(db_session, clock, world.other_reporter)  # the Health ministry's
    ours = report(db_session, clock, world.reporter)  # the Interior ministry's
    assert theirs.organisation_id == world.sante.id
    deliver(db_session, session_factory, clock)
    assert started(db_session) == [(hook.id, ours.id)]


def test_the_triggers_are_read_in_one_query_however_many(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    for n in range(6):
        conditions = {"categories": ["fraud"] if n % 2 else ["availability"]}
        trigger(db_session, clock, playbook(db_session, clock), On.CREATED, **conditions)
    report(db_session, clock, world.reporter)
    db_session.commit()
    with _statements(db_session) as seen:
        deliver_events(session_factory, handlers.HANDLERS, clock=clock, settings=slice_settings())
    assert len(runs(db_session)) == 3
    reading = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert sum("FROM playbook_triggers" in s for s in reading) == 1
    assert not any(s.split("FROM", 1)[1].strip().startswith("playbooks ") for s in reading)
    assert sum("FROM incidents" in s for s in reading) == 1  # the incident loaded once


def _deliveries(session: Session, handler: str) -> set[DeliveryStatus]:
    query = select(EventDelivery.status).where(EventDelivery.handler == handler)
    return set(session.scalars(query))


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    engine = session.get_bind().engine
    seen: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def test_an_incident_deleted_before_delivery_starts_nothing(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    trigger(db_session, clock, playbook(db_session, clock), On.CREATED)
    incident = report(db_session, clock, world.reporter)
    db_session.delete(incident)
    deliver(db_session, session_factory, clock)
    assert runs(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0
    assert _deliveries(db_session, "playbooks.triggers") == {DeliveryStatus.DONE}


def test_a_playbook_starts_once_on_an_incident_whatever_triggers_it(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    book = playbook(db_session, clock)
    on_created = trigger(db_session, clock, book, On.CREATED)
    trigger(db_session, clock, book, On.CLASSIFIED, categories=["malicious-code"])
    incident = report(db_session, clock, world.reporter)
    deliver(db_session, session_factory, clock)
    workflow.reclassify(db_session, Actor.for_user(world.analyst), incident, "malicious-code",
                        "infected-system", clock=clock)  # fmt: skip
    deliver(db_session, session_factory, clock)
    assert started(db_session) == [(on_created.id, incident.id)]
    other = report(db_session, clock, world.reporter)  # another incident: its own run
    deliver(db_session, session_factory, clock)
    assert started(db_session)[-1] == (on_created.id, other.id)


def test_a_playbook_that_opens_incidents_does_not_start_again_on_them(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, world: World
) -> None:
    """create-incident on a created trigger: the incident it opens matches the trigger, yet the
    run that opened it points at it, so the playbook is not started on it (no endless chain)."""
    from playbooks.engine.runner import advance_due_runs  # noqa: PLC0415
    from playbooks.settings import PlaybookSettings  # noqa: PLC0415

    arguments = {"title": "Follow-up", "category": "other", "type": "other"}
    opener = {"type": "x-vigie", "command": "create-incident", "arguments": arguments}
    book = playbook(db_session, clock, commands=[opener])
    trigger(db_session, clock, book, On.CREATED)
    report(db_session, clock, world.reporter)
    for _ in range(4):  # deliver, advance, deliver the opened incident's event, advance
        deliver(db_session, session_factory, clock)
        advance_due_runs(session_factory, clock=clock, settings=PlaybookSettings(intake=SETTINGS))
        db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 2
    assert len(runs(db_session)) == 1
