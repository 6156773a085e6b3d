"""The engine's step types and flow (CACAO semantics), on both databases: start/end, actions
and their outputs, if / while / switch / parallel, playbook-action child runs, failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from core.events import DomainEvent
from playbooks.engine.runner import advance_due_runs, advance_run
from playbooks.models import PlaybookRun, RunOrigin, RunStatus, StepStatus
from playbooks.settings import PlaybookSettings
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


@pytest.fixture
def calls() -> Iterator[Calls]:
    with executors_for_tests() as found:
        yield found


def _advance(factory: sessionmaker[Session], clock: FrozenClock, **kw: object) -> dict[str, int]:
    return advance_due_runs(factory, clock=clock, settings=kw.pop("settings", SETTINGS))  # type: ignore[arg-type]


def _run(session: Session, run: PlaybookRun) -> PlaybookRun:
    session.expire_all()
    return session.get_one(PlaybookRun, run.id)


def test_actions_run_in_order_and_their_outputs_feed_conditions(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    doc = playbook(
        {
            "start": {"type": "start", "on_completion": "lookup"},
            "lookup": action(echo(__score__="7"), echo(__note__="score __score__:value"),
                             then="check", out_args=["__score__", "__note__"]),
            "check": {"type": "if-condition",
                      "condition": "__score__:value > 5 AND __note__:value LIKE 'score%'",
                      "on_true": "high", "on_false": "low", "on_completion": "end"},
            "high": action(echo(__level__="high"), then="branch-end", out_args=["__level__"]),
            "low": action(echo(__level__="low"), then="branch-end", out_args=["__level__"]),
            "branch-end": END,
            "end": END,
        },
        playbook_variables={"__score__": {"type": "integer"}, "__note__": {"type": "string"},
                            "__level__": {"type": "string", "value": "none"}},
    )  # fmt: skip
    run = start(db_session, doc, clock)
    counts = _advance(session_factory, clock)
    assert counts["completed"] == 1
    assert trail(db_session, run) == ["start", "lookup", "check", "high", "branch-end", "end"]
    run = _run(db_session, run)
    assert run.status == RunStatus.COMPLETED and run.finished_at == clock.now()
    assert run.state["variables"]["__level__"] == "high"
    assert calls[1] == ("echo", {"__note__": "score 7"})  # the first command's output, substituted
    recorded = steps(db_session, run)
    assert [s.seq for s in recorded] == [1, 2, 3, 4, 5, 6]
    assert recorded[1].outputs == {"__score__": "7", "__note__": "score 7"}
    assert recorded[2].result == "true" and recorded[2].inputs["condition"].startswith("__score__")
    finished = db_session.scalars(
        select(DomainEvent).where(DomainEvent.name == "playbook.run_finished")
    ).all()
    assert [e.payload["status"] for e in finished] == ["completed"]


def test_while_loops_until_its_condition_fails_and_the_step_budget_stops_runaways(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    workflow = {
        "start": {"type": "start", "on_completion": "loop"},
        "loop": {"type": "while-condition", "condition": "__n__:value < 3", "on_true": "inc",
                 "on_completion": "end"},
        "inc": action({"type": "x-vigie", "command": "test-count"}, then="body-end",
                      out_args=["__n__"]),
        "body-end": END,
        "end": END,
    }  # fmt: skip
    variables = {"__n__": {"type": "integer", "value": 0}}
    run = start(db_session, playbook(workflow, playbook_variables=variables), clock)
    _advance(session_factory, clock)
    assert trail(db_session, run) == ["start"] + ["loop", "inc", "body-end"] * 3 + ["loop", "end"]
    assert _run(db_session, run).state["variables"]["__n__"] == 3

    forever = dict(workflow, loop={**workflow["loop"], "condition": "true"})
    runaway = start(db_session, playbook(forever, playbook_variables=variables), clock)
    _advance(session_factory, clock, settings=PlaybookSettings(max_steps=20))
    runaway = _run(db_session, runaway)
    assert runaway.status == RunStatus.FAILED and runaway.steps_done == 20
    assert "step budget spent: 20 steps" in (runaway.error or "")


def test_switch_takes_its_case_or_default_then_its_on_completion(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    def doc(kind: str) -> dict[str, object]:
        return playbook(
            {
                "start": {"type": "start", "on_completion": "switch"},
                "switch": {"type": "switch-condition", "switch": "__kind__:value",
                           "cases": {"phishing": "a", "default": "b"}, "on_completion": "after"},
                "a": action(echo(__x__="a"), then="case-end"),
                "b": action(echo(__x__="b"), then="case-end"),
                "case-end": END,
                "after": action(echo(__y__="after")),
                "end": END,
            },
            playbook_variables={"__kind__": {"type": "string", "value": kind}},
        )  # fmt: skip

    first, second = start(db_session, doc("phishing"), clock), start(db_session, doc("ddos"), clock)
    _advance(session_factory, clock)
    assert trail(db_session, first) == ["start", "switch", "a", "case-end", "after", "end"]
    assert trail(db_session, second) == ["start", "switch", "b", "case-end", "after", "end"]


def test_parallel_branches_interleave_and_the_join_waits_for_all(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    doc = playbook(
        {
            "start": {"type": "start", "on_completion": "fork"},
            "fork": {"type": "parallel", "next_steps": ["a1", "b1"], "on_completion": "join"},
            "a1": action(echo(__a__="1"), then="a2"),
            "a2": action(echo(__a__="2"), then="a-end"),
            "a-end": END,
            "b1": action(echo(__b__="1"), then="b-end"),
            "b-end": END,
            "join": action(echo(__c__="joined")),
            "end": END,
        }
    )
    run = start(db_session, doc, clock)
    _advance(session_factory, clock)
    recorded = steps(db_session, run)
    assert [(s.step_id, s.thread) for s in recorded] == [
        ("start", ""), ("fork", ""), ("a1", "1"), ("b1", "2"), ("a2", "1"), ("b-end", "2"),
        ("a-end", "1"), ("join", ""), ("end", ""),
    ]  # fmt: skip
    assert _run(db_session, run).status == RunStatus.COMPLETED


def test_a_failed_step_takes_on_failure_else_workflow_exception_else_fails_the_run(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    fail = {"type": "x-vigie", "command": "test-fail"}
    handled = playbook({
        "start": {"type": "start", "on_completion": "try"},
        "try": action(fail, on_success="end", on_failure="recover"),
        "recover": action(echo(__r__="1")),
        "end": END,
    })  # fmt: skip
    excepted = playbook({
        "start": {"type": "start", "on_completion": "try"},
        "try": action(fail),
        "cleanup": action(echo(__r__="1"), then="cleanup-end"),
        "cleanup-end": END,
        "end": END,
    }, workflow_exception="cleanup")  # fmt: skip
    unhandled = playbook({
        "start": {"type": "start", "on_completion": "try"},
        "try": action({"type": "x-vigie", "command": "nowhere"}),
        "end": END,
    })  # fmt: skip
    runs = [start(db_session, d, clock) for d in (handled, excepted, unhandled)]
    _advance(session_factory, clock)
    assert trail(db_session, runs[0]) == ["start", "try:failed", "recover", "end"]
    assert _run(db_session, runs[0]).status == RunStatus.COMPLETED
    assert trail(db_session, runs[1]) == ["start", "try:failed", "cleanup", "cleanup-end"]
    second = _run(db_session, runs[1])
    assert second.status == RunStatus.FAILED and "it failed on purpose" in (second.error or "")
    third = _run(db_session, runs[2])
    assert third.status == RunStatus.FAILED and trail(db_session, third) == ["start", "try:failed"]
    assert "no executor for command 'x-vigie:nowhere'" in (steps(db_session, third)[1].error or "")


def test_an_unknown_variable_in_a_condition_fails_the_step(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    doc = playbook({
        "start": {"type": "start", "on_completion": "check"},
        "check": {"type": "if-condition", "condition": "__missing__:value = 'x'", "on_true": "end",
                  "on_failure": "end"},
        "end": END,
    })  # fmt: skip
    run = start(db_session, doc, clock)
    _advance(session_factory, clock)
    recorded = steps(db_session, run)
    assert recorded[1].status == StepStatus.FAILED
    assert "unknown variable __missing__" in (recorded[1].error or "")
    assert _run(db_session, run).status == RunStatus.COMPLETED  # on_failure → end


def test_playbook_action_runs_a_child_with_in_args_and_copies_out_args_back(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    child_doc = playbook(
        {
            "start": {"type": "start", "on_completion": "work"},
            "work": action(echo(__answer__="got __question__:value"), out_args=["__answer__"]),
            "end": END,
        },
        playbook_variables={"__question__": {"type": "string", "external": True},
                            "__answer__": {"type": "string"}},
    )  # fmt: skip
    child_playbook = store(db_session, child_doc, clock)
    parent_doc = playbook(
        {
            "start": {"type": "start", "on_completion": "call"},
            "call": {"type": "playbook-action", "playbook_id": child_doc["id"],
                     "in_args": ["__question__"], "out_args": ["__answer__"],
                     "on_completion": "check"},
            "check": {"type": "if-condition", "condition": "__answer__:value = 'got why'",
                      "on_true": "yes", "on_completion": "end"},
            "yes": action(echo(__ok__="1"), then="yes-end"),
            "yes-end": END,
            "end": END,
        },
        playbook_variables={"__question__": {"type": "string", "value": "why"},
                            "__answer__": {"type": "string"}},
    )  # fmt: skip
    run = start(db_session, parent_doc, clock)
    _advance(session_factory, clock)
    assert trail(db_session, run) == ["start", "call", "check", "yes", "yes-end", "end"]
    child = db_session.scalar(select(PlaybookRun).where(PlaybookRun.parent_run_id == run.id))
    assert child is not None and child.origin == RunOrigin.PLAYBOOK
    assert child.playbook_id == child_playbook.id and child.status == RunStatus.COMPLETED
    assert steps(db_session, run)[1].child_run_id == child.id
    assert _run(db_session, run).state["variables"]["__answer__"] == "got why"


def test_playbook_action_refuses_recursion_deeper_than_five(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    doc = playbook({
        "start": {"type": "start", "on_completion": "again"},
        "again": {"type": "playbook-action", "playbook_id": "SELF", "on_completion": "end"},
        "end": END,
    })  # fmt: skip
    doc["workflow"]["again"]["playbook_id"] = doc["id"]
    run = start(db_session, doc, clock)
    for _ in range(10):
        _advance(session_factory, clock)
    chain = db_session.scalars(select(PlaybookRun).order_by(PlaybookRun.id)).all()
    assert len(chain) == 6  # the run and five nested ones
    deepest = chain[-1]
    assert deepest.status == RunStatus.FAILED
    assert "nested deeper than 5" in (steps(db_session, deepest)[1].error or "")
    assert all(r.status == RunStatus.FAILED for r in chain)  # each parent's step failed in turn
    assert advance_run(session_factory, run.id, clock=clock, settings=SETTINGS) == RunStatus.FAILED


def test_the_outputs_of_vigie_actions_are_kept_without_out_args(
    db_session: Session, session_factory: sessionmaker[Session], clock: FrozenClock, calls: Calls
) -> None:
    from playbooks.engine import registry
    from playbooks.engine.registry import CommandOutcome

    key = "x-vigie:match-observables"  # documented outputs: __matches__
    saved = registry._EXECUTORS.pop(key, None)  # the real one, once the actions are merged
    registry.register(key, lambda _s, _c: CommandOutcome(outputs={"__matches__": 3, "__x__": 1}))
    try:
        doc = playbook({
            "start": {"type": "start", "on_completion": "match"},
            "match": action({"type": "x-vigie", "command": "match-observables"}, then="check"),
            "check": {"type": "if-condition", "condition": "__matches__:value >= 3",
                      "on_true": "found", "on_completion": "end"},
            "found": action(echo(__y__="1"), then="found-end"),
            "found-end": END,
            "end": END,
        })  # fmt: skip
        run = start(db_session, doc, clock)
        _advance(session_factory, clock)
    finally:
        registry._EXECUTORS.pop(key, None)
        if saved is not None:
            registry._EXECUTORS[key] = saved
    assert trail(db_session, run)[:4] == ["start", "match", "check", "found"]
    variables = _run(db_session, run).state["variables"]
    assert variables["__matches__"] == 3 and "__x__" not in variables  # undocumented: dropped
    assert steps(db_session, run)[1].outputs == {"__matches__": 3, "__x__": 1}  # recorded
