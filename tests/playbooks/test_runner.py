"""The runner's transactions and safety: external calls recorded before they are made and
never repeated, delays and timeouts on the frozen clock, budgets, locks, the scheduler job,
and the use cases that start and cancel runs by hand."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditEntry
from core.clock import FrozenClock, SystemClock
from core.errors import Conflict, NotFound, PermissionDenied
from core.events import DomainEvent
from core.identity.authz import Actor
from core.identity.models import User
from incidents.models import IncidentTask
from playbooks.engine import registry
from playbooks.engine.registry import CommandCall, CommandOutcome
from playbooks.engine.runner import advance_due_runs, advance_run
from playbooks.engine.services import cancel_run, start_manual_run
from playbooks.models import PlaybookRun, PlaybookStepRun, RunStatus, StepStatus
from tests.dbs import TestDatabase
from tests.kit.factories import report
from tests.kit.world import World
from tests.playbooks.engine_kit import (
    SETTINGS,
    Calls,
    action,
    echo,
    executors_for_tests,
    playbook,
    start,
    steps,
    store,
    trail,
)

END = {"type": "end"}
EXTERNAL = {"type": "x-vigie", "command": "test-external", "arguments": {"__url__": "x"}}


@pytest.fixture
def calls() -> Iterator[Calls]:
    with executors_for_tests() as found:
        yield found


def _run(session: Session, run_id: int) -> PlaybookRun:
    session.expire_all()
    return session.get_one(PlaybookRun, run_id)


def _external_doc() -> dict[str, object]:
    return playbook({
        "start": {"type": "start", "on_completion": "call"},
        "call": action(EXTERNAL, on_success="end", on_failure="failed"),
        "failed": action(echo(__why__="call failed"), then="end"),
        "end": END,
    })  # fmt: skip


def test_an_external_step_is_committed_interrupted_before_its_call(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    seen: list[tuple[str, str]] = []

    def spy(_session: Session, call: CommandCall) -> CommandOutcome:
        with factory() as other:  # another connection: only committed rows
            query = select(PlaybookStepRun).where(PlaybookStepRun.run_id == call.run.id)
            row = other.scalars(query.where(PlaybookStepRun.step_id == "call")).one()
            seen.append((row.status, row.step_type))
        return CommandOutcome(outputs={"__status__": "200"})

    registry.register("x-vigie:test-spy", spy, external=True)
    try:
        doc = _external_doc()
        doc["workflow"]["call"]["commands"] = [{"type": "x-vigie", "command": "test-spy"}]
        with factory() as session:
            run = start(session, doc, clock)
        assert advance_run(factory, run.id, clock=clock, settings=SETTINGS) == RunStatus.COMPLETED
    finally:
        registry._EXECUTORS.pop("x-vigie:test-spy", None)
    assert seen == [("interrupted", "action")]
    with factory() as session:
        assert trail(session, run) == ["start", "call", "end"]


def test_an_interrupted_external_step_is_never_called_again(
    factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    def crash(_session: Session, _call: CommandCall) -> CommandOutcome:
        calls.append(("crash", {}))
        raise SystemExit("the scheduler is killed during the call")

    registry._EXECUTORS.pop("x-vigie:test-external")
    registry.register("x-vigie:test-external", crash, external=True)  # called again: SystemExit
    with factory() as session:
        run = start(session, _external_doc(), clock)
    with pytest.raises(SystemExit):
        advance_run(factory, run.id, clock=clock, settings=SETTINGS)
    with factory() as session:
        assert trail(session, run) == ["start", "call:interrupted"]
    # within the lease the call may still be running elsewhere: nothing happens
    assert advance_run(factory, run.id, clock=clock, settings=SETTINGS) == RunStatus.WAITING
    clock.advance(seconds=SETTINGS.http_timeout_seconds + 31)
    assert advance_run(factory, run.id, clock=clock, settings=SETTINGS) == RunStatus.COMPLETED
    assert [key for key, _ in calls] == ["crash", "echo"]  # then the on_failure step, no 2nd call
    with factory() as session:
        assert trail(session, run) == ["start", "call:failed", "failed", "end"]
        assert "interrupted: not repeated" in (steps(session, run)[1].error or "")


def test_a_delayed_step_waits_and_a_timed_out_task_takes_on_failure(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    calls: Calls, reporter: User,
) -> None:  # fmt: skip
    incident = report(db_session, clock, reporter)
    doc = playbook({
        "start": {"type": "start", "on_completion": "later"},
        "later": action(echo(__a__="1"), then="ask", delay=60_000),
        "ask": action({"type": "manual", "command": "Call the reporter"}, timeout=3_600_000,
                      on_success="end", on_failure="escalate"),
        "escalate": action(echo(__b__="escalated"), then="end"),
        "end": END,
    })  # fmt: skip
    run = start(db_session, doc, clock, incident=incident)
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    waiting = _run(db_session, run.id)
    assert waiting.status == RunStatus.WAITING and trail(db_session, run) == ["start"]
    assert waiting.wake_at == clock.now() + dt.timedelta(seconds=60)
    clock.advance(seconds=59)
    assert advance_due_runs(session_factory, clock=clock, settings=SETTINGS)["advanced"] == 0
    clock.advance(seconds=1)
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert trail(db_session, run) == ["start", "later", "ask:waiting"]
    task = db_session.scalars(select(IncidentTask).where(IncidentTask.incident_id == incident.id)
                              .order_by(IncidentTask.id.desc())).first()  # fmt: skip
    assert task is not None and task.title == "Call the reporter"
    assert task.due_at == clock.now() + dt.timedelta(hours=1)
    clock.advance(minutes=59)
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert _run(db_session, run.id).status == RunStatus.WAITING
    clock.advance(minutes=1)
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert trail(db_session, run) == ["start", "later", "ask:failed", "escalate", "end"]
    assert "ACTION_TIMEOUT" in (steps(db_session, run)[2].error or "")
    assert _run(db_session, run.id).status == RunStatus.COMPLETED


def test_a_run_past_its_deadline_fails(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    doc = playbook({
        "start": {"type": "start", "on_completion": "wait"},
        "wait": action(echo(__a__="1"), then="end", delay=10 * 24 * 3600 * 1000),
        "end": END,
    })  # fmt: skip
    run = start(db_session, doc, clock, settings=SETTINGS.__class__(max_days=2))
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    clock.advance(days=2)
    counts = advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert counts["failed"] == 1
    failed = _run(db_session, run.id)
    assert failed.status == RunStatus.FAILED and "time budget spent" in (failed.error or "")
    assert trail(db_session, run) == ["start"]


def test_advancing_twice_never_doubles_a_step(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    doc = playbook({
        "start": {"type": "start", "on_completion": "a"},
        "a": action(echo(__a__="1"), then="end"),
        "end": END,
    })  # fmt: skip
    run = start(db_session, doc, clock)
    for _ in range(3):
        advance_run(session_factory, run.id, clock=clock, settings=SETTINGS)
        advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert trail(db_session, run) == ["start", "a", "end"] and len(calls) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_a_run_locked_elsewhere_is_skipped(
    fresh_database: TestDatabase, factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    with factory() as session:
        run = start(session, playbook({"start": {"type": "start", "on_completion": "end"},
                                       "end": END}), clock)  # fmt: skip
    with fresh_database.engine.connect() as other, other.begin():
        other.execute(text("SELECT id FROM playbook_runs WHERE id = :id FOR UPDATE"),
                      {"id": run.id})  # fmt: skip
        assert advance_run(factory, run.id, clock=clock, settings=SETTINGS) is None
        counts = advance_due_runs(factory, clock=clock, settings=SETTINGS)
        assert counts["skipped"] == 1 and counts["advanced"] == 0
    assert advance_run(factory, run.id, clock=clock, settings=SETTINGS) == RunStatus.COMPLETED


def test_manual_runs_and_cancelling_follow_roles_and_are_audited(
    db_session: Session, world: World, clock: FrozenClock, calls: Calls, reporter: User
) -> None:
    incident = report(db_session, clock, reporter)
    pb = store(db_session, _external_doc(), clock)
    analyst, lead = world.actor(world.analyst), world.actor(world.lead)
    with pytest.raises(PermissionDenied):
        start_manual_run(db_session, world.actor(reporter), pb, clock=clock, settings=SETTINGS,
                         incident=incident)  # fmt: skip
    with pytest.raises(PermissionDenied, match="leads"):
        start_manual_run(db_session, analyst, pb, clock=clock, settings=SETTINGS)
    incident.tlp = "TLP:RED"  # type: ignore[assignment]
    with pytest.raises(NotFound):
        start_manual_run(db_session, analyst, pb, clock=clock, settings=SETTINGS, incident=incident)
    incident.tlp = "TLP:AMBER"  # type: ignore[assignment]
    run = start_manual_run(db_session, analyst, pb, clock=clock, settings=SETTINGS,
                           incident=incident)  # fmt: skip
    assert run.dedupe_key.startswith("manual:") and run.started_by_id == world.analyst.id
    again = start_manual_run(db_session, analyst, pb, clock=clock, settings=SETTINGS,
                             incident=incident)  # fmt: skip
    assert again.id != run.id  # by hand, each start is a run
    without = start_manual_run(db_session, lead, pb, clock=clock, settings=SETTINGS)
    assert without.incident_id is None
    with pytest.raises(PermissionDenied):
        cancel_run(db_session, analyst, run, clock=clock)
    cancel_run(db_session, lead, run, clock=clock)
    assert run.status == RunStatus.CANCELLED and run.finished_at == clock.now()
    with pytest.raises(Conflict):
        cancel_run(db_session, lead, run, clock=clock)
    actions = db_session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "playbook-run").order_by(AuditEntry.id)).all()  # fmt: skip
    assert actions == ["playbook.run_start"] * 3 + ["playbook.run_cancel"]
    assert db_session.scalar(select(func.count()).select_from(PlaybookStepRun)) == 0
    assert Actor.system("x").is_cert_staff  # the CLI and jobs act as the system
    assert StepStatus.INTERRUPTED == "interrupted"


def test_cli_runs_a_playbook_now_and_lists_runs(
    fresh_database: TestDatabase, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from cert.cli import cli, load_commands

    load_commands()
    with factory() as session:
        world = World(session, SystemClock())
        incident = report(session, SystemClock(), world.reporter)
        doc = playbook({
            "start": {"type": "start", "on_completion": "ask"},
            "ask": action({"type": "manual", "command": "Check __incident_reference__:value"}),
            "end": END,
        })  # fmt: skip
        pb = store(session, doc, SystemClock())
        session.commit()
        ref, pb_id, cacao_id = incident.reference, pb.id, doc["id"]
    env = {"CERT_DATABASE_URL": fresh_database.url, "CERT_SECRET_KEY": "s" * 40,
           "CERT_INSTANCE_DIR": str(tmp_path / "instance")}  # fmt: skip

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, ["playbooks", *args], env=env, catch_exceptions=False)

    started = invoke("run", str(pb_id), "--incident", ref, "--now")
    assert started.exit_code == 0, started.output
    assert "run #1 started" in started.output and "run #1: waiting" in started.output
    assert "action" in started.output and "task #" in started.output
    assert invoke("run", cacao_id, "--incident", ref).output.startswith("run #2 started")
    refused = invoke("run", "999")
    assert refused.exit_code == 1 and "no playbook 999" in refused.output
    listed = json.loads(invoke("runs", "--incident", ref, "--json").output)
    assert [(r["id"], r["status"], r["incident"]) for r in listed] == [
        (2, "pending", ref), (1, "waiting", ref)
    ]  # fmt: skip
    assert "waiting" in invoke("runs", "--status", "waiting").output


def test_cancelling_a_run_cancels_its_child_runs_and_ends_their_waiting_steps(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock,
    world: World, reporter: User,
) -> None:  # fmt: skip
    incident = report(db_session, clock, reporter)
    child_doc = playbook({
        "start": {"type": "start", "on_completion": "ask"},
        "ask": action({"type": "manual", "command": "Wait for me"}),
        "end": END,
    })  # fmt: skip
    store(db_session, child_doc, clock)
    parent = start(db_session, playbook({
        "start": {"type": "start", "on_completion": "call"},
        "call": {"type": "playbook-action", "playbook_id": child_doc["id"], "on_completion": "end"},
        "end": END,
    }), clock, incident=incident)  # fmt: skip
    advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    query = select(PlaybookRun).where(PlaybookRun.parent_run_id == parent.id)
    child = db_session.scalars(query).one()
    assert trail(db_session, child) == ["start", "ask:waiting"]
    cancel_run(db_session, world.actor(world.lead), _run(db_session, parent.id), clock=clock)
    db_session.commit()
    assert _run(db_session, child.id).status == RunStatus.CANCELLED
    assert trail(db_session, child) == ["start", "ask:failed"]
    assert trail(db_session, parent) == ["start", "call:failed"]
    assert "cancelled" in (steps(db_session, child)[1].error or "")
    events = db_session.scalars(select(DomainEvent.payload).where(
        DomainEvent.name == "playbook.run_finished")).all()  # fmt: skip
    assert sorted(e["status"] for e in events) == ["cancelled", "cancelled"]


def test_a_run_the_engine_cannot_read_fails_and_the_others_go_on(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    ok = start(db_session, playbook({"start": {"type": "start", "on_completion": "end"},
                                     "end": END}), clock)  # fmt: skip
    broken = start(db_session, playbook({"start": {"type": "start", "on_completion": "nowhere"},
                                         "end": END}), clock)  # fmt: skip
    unreadable = start(db_session, playbook({"start": {"type": "start"}}), clock)
    unreadable.playbook.document = "{not json"
    db_session.commit()
    counts = advance_due_runs(session_factory, clock=clock, settings=SETTINGS)
    assert counts["errors"] == 1 and counts["completed"] == 1 and counts["failed"] == 1
    assert _run(db_session, ok.id).status == RunStatus.COMPLETED
    assert "no step 'nowhere'" in (_run(db_session, broken.id).error or "")
    assert (_run(db_session, unreadable.id).error or "").startswith("engine error: JSONDecodeError")
