"""Manual steps wait for their task; the ``playbooks.resume_on_task`` handler resumes the run;
runs survive a ``kill -9`` of the scheduler (and, on PostgreSQL, of the leader with a standby
taking over) without any step recorded twice or any task created twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock, SystemClock
from core.events import DomainEvent, deliver_events, list_deliveries
from core.events.store import loaded
from core.identity.models import User
from core.uow import begin_write
from incidents.models import Incident, IncidentTask
from incidents.workspace.tasks import complete_task
from playbooks.engine.handlers import HANDLERS, resume_on_task
from playbooks.engine.runner import advance_due_runs, advance_run
from playbooks.models import PlaybookRun, PlaybookStepRun, RunStatus, StepStatus
from playbooks.slice import SLICE
from tests.dbs import TestDatabase
from tests.kit.factories import report
from tests.kit.scheduler import (
    SchedulerProcess,
    elect,
    job_runs,
    runs_of,
    scheduler_env,
    wait_until,
)
from tests.kit.world import World
from tests.playbooks.engine_kit import SETTINGS, playbook, start, steps, trail

END = {"type": "end"}


def manual(text: str, then: str, **fields: Any) -> dict[str, Any]:
    return {"type": "action", "commands": [{"type": "manual", "command": text}],
            "on_completion": then, **fields}  # fmt: skip


def _tasks(session: Session, incident: Incident) -> list[IncidentTask]:
    session.expire_all()
    query = select(IncidentTask).where(IncidentTask.incident_id == incident.id)
    return list(session.scalars(query.order_by(IncidentTask.id)))


def test_the_handler_is_in_the_manifest() -> None:
    assert "playbooks.resume_on_task" in {h.name for h in SLICE.handlers}
    assert "playbooks.advance" in {j.name for j in SLICE.jobs}


def test_a_manual_step_waits_for_its_task_and_the_handler_resumes_the_run(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    world: World, reporter: User,
) -> None:  # fmt: skip
    incident = report(db_session, clock, reporter, state={"assignee_id": world.analyst.id})
    doc = playbook(
        {
            "start": {"type": "start", "on_completion": "contain"},
            "contain": manual("Isolate __host__:value on __incident_reference__:value", "end"),
            "end": END,
        },
        playbook_variables={"__host__": {"type": "string", "value": "srv-01\nInjected: x"}},
    )
    run = start(db_session, doc, clock, incident=incident)
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    (task,) = [t for t in _tasks(db_session, incident) if t.title.startswith("Isolate")]
    assert task.title == f"Isolate srv-01 Injected: x on {incident.reference}"  # plain text
    assert task.assignee_id == world.analyst.id and task.due_at is None
    waiting = steps(db_session, run)[1]
    assert waiting.status == StepStatus.WAITING and waiting.task_id == task.id
    assert waiting.result == f"task #{task.id} created"
    assert advance_run(session_factory, run.id, clock=clock, settings=SETTINGS) == RunStatus.WAITING
    clock.advance(minutes=5)
    complete_task(db_session, world.actor(world.analyst), task, clock=clock)
    db_session.commit()
    counts = deliver_events(session_factory, HANDLERS, clock=clock)
    assert counts["delivered"] >= 1
    db_session.expire_all()
    assert db_session.get_one(PlaybookStepRun, waiting.id).status == StepStatus.COMPLETED
    assert db_session.get_one(PlaybookRun, run.id).wake_at == clock.now()
    event = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "incident.task_done")
    ).one()
    # a redelivered event, then advancing twice: no step doubled
    resume_on_task(db_session, loaded(event))
    db_session.commit()
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert trail(db_session, run) == ["start", "contain", "end"]
    assert db_session.get_one(PlaybookRun, run.id).status == RunStatus.COMPLETED
    assert len(_tasks(db_session, incident)) == len({t.id for t in _tasks(db_session, incident)})
    assert list_deliveries  # the dispatcher's listing exists for the admin page


def test_a_manual_step_without_an_incident_fails_saying_why(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    doc = playbook({"start": {"type": "start", "on_completion": "ask"},
                    "ask": manual("Do it", "end"), "end": END})  # fmt: skip
    run = start(db_session, doc, clock)
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert trail(db_session, run) == ["start", "ask:failed"]
    assert "this run has none" in (steps(db_session, run)[1].error or "")
    db_session.expire_all()
    assert db_session.get_one(PlaybookRun, run.id).status == RunStatus.FAILED


# ------------------------------------------------------------------ the kill test
KILL_DOC = {
    "start": {"type": "start", "on_completion": "first"},
    "first": manual("First: preserve the evidence", "second"),
    "second": manual("Second: reset the credentials", "end", delay=4000),
    "end": END,
}


@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for process in started:
        process.close()


def _arrange(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    """An incident, the run on it (committed); (run id, incident id, analyst id)."""
    with factory() as session:
        world = World(session, SystemClock())
        incident = report(session, SystemClock(), world.reporter)
        analyst_id = world.analyst.id
        run = start(session, playbook(dict(KILL_DOC)), SystemClock(), incident=incident)
        session.commit()
        return run.id, incident.id, analyst_id


def _step(factory: sessionmaker[Session], run_id: int, step_id: str) -> PlaybookStepRun | None:
    with factory() as session:
        query = select(PlaybookStepRun).where(PlaybookStepRun.run_id == run_id)
        return session.scalars(query.where(PlaybookStepRun.step_id == step_id)).first()


def _finish_task(factory: sessionmaker[Session], task_id: int, analyst_id: int) -> None:
    with factory() as session:
        begin_write(session)  # SQLite: the scheduler writes too
        analyst = session.get_one(User, analyst_id)
        task = session.get_one(IncidentTask, task_id)
        complete_task(session, World.actor(analyst), task, clock=SystemClock())
        session.commit()


def _delaying(factory: sessionmaker[Session], run_id: int) -> bool:
    with factory() as session:
        run = session.get_one(PlaybookRun, run_id)
        return any((t.get("wait") or {}).get("kind") == "delay" for t in run.state["threads"])


def _status(factory: sessionmaker[Session], run_id: int) -> RunStatus:
    with factory() as session:
        return session.get_one(PlaybookRun, run_id).status


def _assert_once(factory: sessionmaker[Session], run_id: int, incident_id: int) -> None:
    with factory() as session:
        recorded = session.scalars(select(PlaybookStepRun).where(
            PlaybookStepRun.run_id == run_id).order_by(PlaybookStepRun.seq)).all()  # fmt: skip
        assert [(s.seq, s.step_id, s.status) for s in recorded] == [
            (1, "start", "completed"), (2, "first", "completed"),
            (3, "second", "completed"), (4, "end", "completed"),
        ]  # fmt: skip
        query = select(IncidentTask.title).where(IncidentTask.incident_id == incident_id)
        titles = session.scalars(query.where(IncidentTask.title.like("%: %"))).all()
        assert sorted(titles) == ["First: preserve the evidence", "Second: reset the credentials"]
        finished = session.scalar(select(func.count()).select_from(DomainEvent).where(
            DomainEvent.name == "playbook.run_finished"))  # fmt: skip
        assert finished == 1


def _kill_env(db: TestDatabase, tmp_path: Path) -> dict[str, str]:
    return {**scheduler_env(db.url, tmp_path), "CERT_PLAYBOOKS_INTERVAL": "1",
            "CERT_EVENTS_INTERVAL": "1"}  # fmt: skip


def _drive(factory: sessionmaker[Session], run_id: int, analyst_id: int,
           kill: Any) -> None:  # fmt: skip
    """Task one done → the delay starts → ``kill()`` (which starts the next scheduler) → task
    two done → the run completes."""
    first = wait_until(lambda: _step(factory, run_id, "first"), 60, "the first task")
    assert first.status == StepStatus.WAITING and first.task_id is not None
    _finish_task(factory, first.task_id, analyst_id)
    wait_until(lambda: _delaying(factory, run_id), 60, "the delay of the second step")
    assert _step(factory, run_id, "second") is None
    kill()
    second = wait_until(lambda: _step(factory, run_id, "second"), 60, "the second task")
    assert second.task_id is not None
    _finish_task(factory, second.task_id, analyst_id)
    wait_until(lambda: _status(factory, run_id) == RunStatus.COMPLETED, 60, "the run to finish")


@pytest.mark.slow
def test_a_scheduler_killed_in_the_middle_of_a_run_resumes_it_without_repeating_a_step(
    fresh_database: TestDatabase, factory: sessionmaker[Session], tmp_path: Path,
    processes: list[SchedulerProcess],
) -> None:  # fmt: skip
    run_id, incident_id, analyst_id = _arrange(factory)
    env = _kill_env(fresh_database, tmp_path)
    processes.append(SchedulerProcess(env))

    def kill() -> None:
        processes[0].kill()  # kill -9, during the delay, after steps were committed
        processes.append(SchedulerProcess(env))

    _drive(factory, run_id, analyst_id, kill)
    assert processes[0].proc.returncode == -9
    _assert_once(factory, run_id, incident_id)
    advances = [r for r in job_runs(fresh_database.engine) if r.job_id == "playbooks.advance"]
    assert runs_of(advances, processes[0]) and runs_of(advances, processes[1])  # both moved it


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_the_standby_finishes_a_run_whose_leader_was_killed(
    fresh_database: TestDatabase, factory: sessionmaker[Session], tmp_path: Path,
    processes: list[SchedulerProcess],
) -> None:  # fmt: skip
    run_id, incident_id, analyst_id = _arrange(factory)
    env = _kill_env(fresh_database, tmp_path)
    processes += [SchedulerProcess(env), SchedulerProcess(env)]
    leader, standby = elect(processes)
    _drive(factory, run_id, analyst_id, leader.kill)
    assert standby.is_leader()
    _assert_once(factory, run_id, incident_id)
    advances = [r for r in job_runs(fresh_database.engine) if r.job_id == "playbooks.advance"]
    assert runs_of(advances, leader) and runs_of(advances, standby)
