"""incidents.workspace.merge: links, and merges moving observables, tasks and timeline."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from incidents.models import Incident, IncidentStatus, IncidentTask
from incidents.workspace import conversation, merge, tasks, workflow
from incidents.workspace.observables_admin import add_observable
from tests.incidents.workspace_helpers import audit_actions, events
from tests.kit.factories import SETTINGS, report
from tests.kit.world import World


def fold(
    session: Session, world: World, survivor: Incident, other: Incident, clock: FrozenClock
) -> None:
    merge.merge(
        session, world.actor(world.analyst), survivor, other, clock=clock, settings=SETTINGS
    )
    session.flush()


def test_merge_moves_observables_tasks_and_events_and_marks_the_duplicate(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    analyst = world.actor(world.analyst)
    survivor = report(db_session, clock, world.reporter)
    other = report(db_session, clock, world.reporter)
    add_observable(db_session, analyst, other, "ipv4", "203.0.113.9", clock=clock)
    shared = {(o.type, o.value) for o in survivor.observables}
    assert shared and shared < {(o.type, o.value) for o in other.observables}
    task = tasks.add_task(db_session, analyst, other, "Block 203.0.113.9", clock=clock)
    comment = conversation.add_comment(db_session, analyst, other, "seen before", clock=clock)
    fold(db_session, world, survivor, other, clock)

    assert other.status == IncidentStatus.DUPLICATE and other.duplicate_of_id == survivor.id
    values = [(o.type, o.value) for o in survivor.observables]
    assert len(values) == len(set(values)) and ("ipv4", "203.0.113.9") in values
    assert other.observables == []
    moved = next(o for o in survivor.observables if o.value == "203.0.113.9")
    assert moved.sources == ["analyst"]
    assert db_session.get(IncidentTask, task.id).incident_id == survivor.id  # type: ignore[union-attr]
    survivor_kinds = [e.kind for e in events(db_session, survivor)]
    assert comment.id in [e.id for e in events(db_session, survivor)]
    assert survivor_kinds[-1] == "merged" and survivor_kinds.count("created") == 2
    [left] = events(db_session, other)
    assert left.kind == "merged" and left.public and left.data == {"into": survivor.reference}
    assert "incident.merge" in audit_actions(db_session, other)
    assert events(db_session, survivor, "merged")[0].data["from"] == other.reference


def test_events_of_another_organisation_become_internal(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter)
    other = report(db_session, clock, world.other_reporter)
    conversation.reporter_answer(
        db_session, world.actor(world.other_reporter), other, "hi", clock=clock
    )
    merge.merge(
        db_session, world.actor(world.lead), survivor, other, clock=clock, settings=SETTINGS,
        confirm_organisations=["min-sante", "min-interieur"],
    )  # fmt: skip
    db_session.flush()
    reporter_view = conversation.timeline(
        db_session, world.actor(world.reporter), survivor, public_only=True
    )
    assert [e.kind for e in reporter_view] == ["created"]  # its own report only
    assert events(db_session, other)[0].data == {}  # no reference of another ministry


def test_merges_that_would_lose_or_leak_are_refused(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    survivor = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    amber = report(db_session, clock, world.reporter, tlp="TLP:AMBER")
    with pytest.raises(ValidationFailed) as caught:
        fold(db_session, world, survivor, amber, clock)
    assert set(caught.value.fields) == {"into"}
    with pytest.raises(ValidationFailed):
        fold(db_session, world, survivor, survivor, clock)
    done = report(db_session, clock, world.reporter, tlp="TLP:GREEN")
    for status in ("triaged", "resolved"):
        workflow.change_status(
            db_session, world.actor(world.analyst), done, status, clock=clock, settings=SETTINGS,
            resolution="ok", assignee=world.analyst,
        )  # fmt: skip
    with pytest.raises(InvalidTransition) as caught:  # a ValidationFailed: 422 as before
        fold(db_session, world, survivor, done, clock)
    assert caught.value.fields == {"status": "a resolved incident cannot be merged"}
    with pytest.raises(PermissionDenied):
        merge.merge(
            db_session, world.actor(world.reporter), amber, survivor, clock=clock, settings=SETTINGS
        )
    assert amber.status == IncidentStatus.NEW and survivor.status == IncidentStatus.NEW


def test_links_go_both_ways_and_can_be_removed(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    analyst = world.actor(world.analyst)
    a, b = (
        report(db_session, clock, world.reporter),
        report(db_session, clock, world.other_reporter),
    )
    merge.link(db_session, analyst, a, b, clock=clock)
    merge.link(db_session, analyst, b, a, clock=clock)  # already there: nothing changes
    assert merge.linked_incidents(db_session, analyst, a) == [b]
    assert merge.linked_incidents(db_session, analyst, b) == [a]
    assert [e.data for e in events(db_session, a, "linked")] == [{"reference": b.reference}]
    merge.unlink(db_session, analyst, a, b, clock=clock)
    assert merge.linked_incidents(db_session, analyst, b) == []
    with pytest.raises(NotFound):
        merge.unlink(db_session, analyst, a, b, clock=clock)


def test_a_red_link_stays_hidden_from_analysts_outside_it(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    a = report(db_session, clock, world.reporter)
    red = report(db_session, clock, world.reporter, tlp="TLP:RED")
    merge.link(db_session, world.actor(world.lead), a, red, clock=clock)
    assert merge.linked_incidents(db_session, world.actor(world.lead), a) == [red]
    assert merge.linked_incidents(db_session, world.actor(world.analyst), a) == []
    with pytest.raises(NotFound):
        merge.link(db_session, world.actor(world.analyst), a, red, clock=clock)
