"""incidents.workspace.tasks: tasks by hand and from the templates of the RSIT class."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.errors import NotFound, PermissionDenied, ValidationFailed
from incidents.models import Incident, IncidentTask
from incidents.rules.taxonomy import rsit_classes
from incidents.workspace import tasks
from tests.incidents.workspace_helpers import audit_actions, events
from tests.kit.factories import report
from tests.kit.world import World


def titles(session: Session, incident: Incident) -> list[str]:
    return [t.title for t in session.scalars(tasks.task_list(incident))]


def test_every_rsit_class_has_templates_in_french_and_english() -> None:
    templates = tasks.task_templates()
    assert set(rsit_classes()) | {"default"} == set(templates)
    for key, items in templates.items():
        assert items, key
        assert len({t.id for t in items}) == len(items), key
        for item in items:
            assert (
                item.titles["fr"] and item.titles["en"] and item.titles["fr"] != item.titles["en"]
            )


def test_tasks_are_added_in_order_with_assignee_and_due_date(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    analyst = world.actor(world.analyst)
    due = clock.now() + dt.timedelta(days=1)
    first = tasks.add_task(
        db_session, analyst, incident, " Block the domain ", clock=clock, assignee=world.analyst2,
        due_at=due,
    )  # fmt: skip
    tasks.add_task(db_session, analyst, incident, "Warn the staff", clock=clock)
    assert titles(db_session, incident) == ["Block the domain", "Warn the staff"]
    assert first.assignee_id == world.analyst2.id and first.due_at == due and not first.done
    assert [e.data["title"] for e in events(db_session, incident, "task_added")] == [
        "Block the domain",
        "Warn the staff",
    ]
    assert audit_actions(db_session, incident).count("incident.task_added") == 2


def test_bad_tasks_are_refused(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    analyst = world.actor(world.analyst)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": " "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "ok", "assignee": world.reporter}, "assignee"),
        ({"title": "ok", "due_at": dt.datetime(2026, 2, 1)}, "due_at"),  # noqa: DTZ001
    ]
    for kwargs, field in cases:
        title = str(kwargs.pop("title"))
        with pytest.raises(ValidationFailed) as caught:
            tasks.add_task(db_session, analyst, incident, title, clock=clock, **kwargs)
        assert set(caught.value.fields) == {field}
    with pytest.raises(PermissionDenied):
        tasks.add_task(db_session, world.actor(world.reporter), incident, "ok", clock=clock)
    assert titles(db_session, incident) == []


def test_a_task_is_done_then_undone(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    analyst = world.actor(world.analyst)
    task = tasks.add_task(db_session, analyst, incident, "Block", clock=clock)
    clock.advance(hours=1)
    tasks.complete_task(db_session, analyst, task, clock=clock)
    assert task.done and task.done_at == clock.now() and task.done_by_id == world.analyst.id
    tasks.complete_task(db_session, analyst, task, clock=clock, done=False)
    assert not task.done and task.done_by_id is None
    kinds = [e.kind for e in events(db_session, incident)]
    assert kinds[-2:] == ["task_done", "task_reopened"]


def test_a_task_is_found_only_on_its_incident(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    other = report(db_session, clock, world.reporter)
    task = tasks.add_task(db_session, world.actor(world.analyst), incident, "Block", clock=clock)
    assert tasks.get_task(db_session, world.actor(world.analyst), incident, task.id) is task
    with pytest.raises(NotFound):
        tasks.get_task(db_session, world.actor(world.analyst), other, task.id)


def test_templates_of_the_class_are_applied_once(
    db_session: Session, clock: FrozenClock, world: World, incident: Incident
) -> None:
    analyst = world.actor(world.analyst)
    added = tasks.apply_templates(db_session, analyst, incident, clock=clock)
    expected = tasks.task_templates()["fraud"]
    assert [t.template for t in added] == [t.id for t in expected]
    assert titles(db_session, incident) == [t.titles["fr"] for t in expected]
    assert tasks.apply_templates(db_session, analyst, incident, clock=clock) == []
    assert len(events(db_session, incident, "tasks_applied")) == 1


def test_templates_in_english_and_manual_tasks_keep_their_place(
    db_session: Session, clock: FrozenClock, world: World
) -> None:
    incident = report(db_session, clock, world.reporter, category="malicious-code", type=None)
    analyst = world.actor(world.analyst)
    tasks.add_task(db_session, analyst, incident, "Call the minister's office", clock=clock)
    tasks.apply_templates(db_session, analyst, incident, clock=clock, locale="en")
    got = titles(db_session, incident)
    assert got[0] == "Call the minister's office"
    assert got[1] == "Isolate infected hosts from the network"
    count = db_session.query(IncidentTask).filter_by(incident_id=incident.id).count()
    assert count == 1 + len(tasks.task_templates()["malicious-code"])
