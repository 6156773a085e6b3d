"""Executing the steps of one run (Flask-free use case, driven by :mod:`.runner`).

A :class:`Stepper` works on one locked run in the caller's transaction: it runs the steps its
threads can run now (``start``, ``end``, ``action``, ``if-``/``while-``/``switch-condition``,
``parallel``, ``playbook-action``; :mod:`playbooks.rules.flow` says where each goes), appends
one :class:`PlaybookStepRun` per step and writes the state back. It stops before a step whose
commands act outside the database (``external``): the runner commits a record of it first
(:meth:`begin_external`), then calls it in a new transaction (:meth:`finish_external`).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core.clock import Clock
from core.identity.authz import Actor
from core.identity.models import Organisation
from incidents.models import Incident, IncidentTask
from playbooks.engine import registry
from playbooks.engine.context import context_variables, find_playbook, ms, when
from playbooks.engine.runs import finish_run, run_depth, start_run
from playbooks.models import PlaybookRun, PlaybookStepRun, RunOrigin, RunStatus, StepStatus
from playbooks.rules import flow
from playbooks.rules.conditions import ConditionError, evaluate, parse_condition
from playbooks.rules.substitution import as_text
from playbooks.rules.vocabulary import ACTIONS
from playbooks.settings import PlaybookSettings

MAX_DEPTH = 5  # playbook-action: a run of a run of … at most this deep
TIMEOUT = "ACTION_TIMEOUT"
INTERRUPTED = "interrupted: not repeated (the scheduler stopped during the call)"
Thread = dict[str, Any]


class Stepper:
    def __init__(
        self, session: Session, run: PlaybookRun, *, clock: Clock, settings: PlaybookSettings
    ) -> None:
        self.session, self.run, self.clock, self.settings = session, run, clock, settings
        self.document: dict[str, Any] = json.loads(run.playbook.document)
        self.state: dict[str, Any] = copy.deepcopy(run.state or {})
        self.now = clock.now()
        self.actor = Actor.system(f"playbook-run:{run.id}")
        self.more = False  # stopped at the per-call limit with steps left to run
        self._polled = False

    # ------------------------------------------------------------ the loop
    def advance(self, limit: int) -> str | None:
        """Run what can run now (at most ``limit`` steps); the id of a thread at a step with an
        external command (the caller commits, then :meth:`finish_external`), else ``None``."""
        if self.now >= self.run.deadline_at:
            self._finish(RunStatus.FAILED, "time budget spent: the run was still unfinished at "
                         f"its deadline {self.run.deadline_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        done, progressed = 0, True
        while progressed and not self.finished:
            progressed = False
            for thread in list(flow.threads(self.state)):
                if self.finished or not self._ready(thread):
                    progressed |= self._polled
                    continue
                if done >= limit:
                    self.more = True
                    return None
                outcome = self._one(thread)
                if outcome == "external":
                    return str(thread["id"])
                done += outcome == "step"
                progressed = True
        return None

    def _ready(self, thread: Thread) -> bool:
        """Whether the thread can run its step now (its wait, if any, resolved)."""
        self._polled = False
        if thread not in flow.threads(self.state):
            return False
        if thread.get("wait"):
            self._polled = self._poll(thread)
            if thread.get("wait") or thread not in flow.threads(self.state):
                return False
        if self.finished:
            return False
        if self.run.steps_done >= self.settings.max_steps:
            self._finish(RunStatus.FAILED, f"step budget spent: {self.run.steps_done} steps "
                         "run (CERT_PLAYBOOK_MAX_STEPS)")  # fmt: skip
            return False
        return True

    def _one(self, thread: Thread) -> str:
        """Run the thread's step: ``"step"``, ``"delay"`` (it waits first), ``"external"`` (the
        caller records and calls it) or ``"stop"``."""
        try:
            step = flow.step_of(self.document, thread["at"])
        except flow.FlowError as exc:
            self._finish(RunStatus.FAILED, str(exc))
            return "stop"
        delay = ms(step.get("delay"))
        if delay and thread.get("delayed") != thread["at"]:
            thread["delayed"] = thread["at"]
            thread["wait"] = {"kind": "delay", "until": when(self.now + delay)}
            return "delay"
        if self._external(thread, step):
            return "external"
        self._execute(thread, thread["at"], step)
        return "step"

    @property
    def finished(self) -> bool:
        return self.run.status.finished

    def save(self) -> None:
        """Write the state back; the run's status and when it is next looked at."""
        if not self.finished:
            waits = [t.get("wait") for t in flow.threads(self.state)]
            if self.more or any(w is None for w in waits):
                self.run.status, self.run.wake_at = RunStatus.RUNNING, self.now
            else:
                self.run.status, self.run.wake_at = RunStatus.WAITING, self._next_wake(waits)
        self.run.state = self.state
        flag_modified(self.run, "state")
        self.run.updated_at = self.now

    def _next_wake(self, waits: list[Any]) -> dt.datetime | None:
        times = []
        lease = dt.timedelta(seconds=self.settings.http_timeout_seconds + 30)
        for wait in waits:
            for key in ("until", "timeout_at"):
                if wait.get(key):
                    times.append(dt.datetime.fromisoformat(wait[key]))
            if wait.get("kind") == "external":
                times.append(dt.datetime.fromisoformat(wait["since"]) + lease)
        return min(times) if times else None

    # ------------------------------------------------------------ waits
    def _poll(self, thread: Thread) -> bool:
        """Resolve the thread's wait if it can be now; whether anything changed."""
        wait = thread["wait"]
        kind = wait.get("kind")
        if kind == "join":
            return False
        if kind == "delay":
            if self.now < dt.datetime.fromisoformat(wait["until"]):
                return False
            thread["wait"] = None
            return True
        row = self._row(wait.get("seq"))
        if row is None:
            self._finish(RunStatus.FAILED, f"the record of step {wait.get('seq')} is missing")
            return True
        if kind == "external":
            lease = dt.timedelta(seconds=self.settings.http_timeout_seconds + 30)
            if self.now < dt.datetime.fromisoformat(wait["since"]) + lease:
                return False  # still in flight in another transaction
            self._close(row, StepStatus.FAILED, error=INTERRUPTED)
            self._after(thread, row.step_id, False, INTERRUPTED)
            return True
        if kind == "child":
            return self._poll_child(thread, row, wait)
        done = kind == "until" and self.now >= dt.datetime.fromisoformat(wait["until"])
        if kind == "task":
            task = self.session.get(IncidentTask, wait["task"])
            done = row.status == StepStatus.COMPLETED or bool(task is not None and task.done_at)
        if done:
            thread["wait"] = None
            thread["resume"] = {"seq": row.seq, "next": wait.get("next", 0)}
            return True
        return self._timed_out(thread, row, wait)

    def _timed_out(self, thread: Thread, row: PlaybookStepRun, wait: Mapping[str, Any]) -> bool:
        if not wait.get("timeout_at") or self.now < dt.datetime.fromisoformat(wait["timeout_at"]):
            return False
        error = f"{TIMEOUT}: still waiting after the step's timeout"
        self._close(row, StepStatus.FAILED, error=error)
        self._after(thread, row.step_id, False, error)
        return True

    def _poll_child(self, thread: Thread, row: PlaybookStepRun, wait: Mapping[str, Any]) -> bool:
        child = self.session.get(PlaybookRun, wait["child"])
        if child is not None and not child.status.finished:
            if not self._timed_out(thread, row, wait):
                return False
            finish_run(self.session, child, RunStatus.CANCELLED, f"{TIMEOUT} in the parent run",
                       clock=self.clock, actor=self.actor)  # fmt: skip
            return True
        step = flow.step_of(self.document, row.step_id)
        names = flow.arg_names(step, "out_args")
        outputs = (child.state or {}).get("variables", {}) if child is not None else {}
        kept = flow.keep_outputs(self.state, outputs, names)
        ok = child is not None and child.status == RunStatus.COMPLETED
        error = (
            None
            if ok
            else f"run #{wait['child']} {child.status if child else 'gone'}"
            + (f": {child.error}" if child is not None and child.error else "")
        )
        self._close(row, StepStatus.COMPLETED if ok else StepStatus.FAILED, error=error)
        row.outputs = kept
        self._after(thread, row.step_id, ok, error)
        return True

    # ------------------------------------------------------------ steps
    def _execute(self, thread: Thread, step_id: str, step: Mapping[str, Any]) -> None:
        kind = step.get("type")
        try:
            if kind == "start":
                self._record(thread, step_id, step, StepStatus.COMPLETED)
                self._after(thread, step_id, True)
            elif kind == "end":
                self._record(thread, step_id, step, StepStatus.COMPLETED)
                self._end(thread)
            elif kind in ("if-condition", "while-condition"):
                self._condition(thread, step_id, step)
            elif kind == "switch-condition":
                self._switch(thread, step_id, step)
            elif kind == "parallel":
                children = flow.spawn(thread, step)
                flow.threads(self.state).extend(children)
                self._record(thread, step_id, step, StepStatus.COMPLETED,
                             result=f"{len(children)} branches started")  # fmt: skip
            elif kind == "playbook-action":
                self._child(thread, step_id, step)
            elif kind == "action":
                self._action(thread, step_id, step)
            else:
                self._fail(thread, step_id, step, f"unknown step type {kind!r}")
        except flow.FlowError as exc:
            self._finish(RunStatus.FAILED, f"step {step_id}: {exc}")

    def _condition(self, thread: Thread, step_id: str, step: Mapping[str, Any]) -> None:
        text = step.get("condition")
        try:
            holds = evaluate(parse_condition(str(text or "")), self._scope(step))
        except ConditionError as exc:
            self._fail(thread, step_id, step, f"condition: {exc}", inputs={"condition": text})
            return
        self._record(thread, step_id, step, StepStatus.COMPLETED, inputs={"condition": text},
                     outputs={"holds": holds}, result="true" if holds else "false")  # fmt: skip
        target = step.get("on_true") if holds else step.get("on_false")
        if isinstance(target, str) and target:
            flow.enter(thread, step_id, target)
        elif holds and step.get("type") == "while-condition":
            raise flow.FlowError("a while-condition needs on_true (its loop body)")
        else:
            self._after(thread, step_id, True)

    def _switch(self, thread: Thread, step_id: str, step: Mapping[str, Any]) -> None:
        name = flow.reference(step.get("switch"))
        variables = self._scope(step)
        if name is None or name not in variables:
            error = f"switch: {step.get('switch')!r} is not a variable the step sees"
            self._fail(thread, step_id, step, error)
            return
        value = as_text(variables[name])
        target = flow.case_target(step, value)
        self._record(thread, step_id, step, StepStatus.COMPLETED, inputs={"switch": value},
                     result=f"case {target or 'none'}")  # fmt: skip
        if target is not None:
            flow.enter(thread, step_id, target)
        else:
            self._after(thread, step_id, True)

    def _child(self, thread: Thread, step_id: str, step: Mapping[str, Any]) -> None:
        variables = self._scope(step)
        names = flow.arg_names(step, "in_args")
        args = {name: variables[name] for name in names if name in variables}
        inputs = {"playbook_id": step.get("playbook_id"), "in_args": args}
        playbook = find_playbook(
            self.session, step.get("playbook_id"), step.get("playbook_version")
        )
        error = None
        if missing := [name for name in names if name not in variables]:
            error = f"in_args: unknown variable {missing[0]}"
        elif playbook is None or playbook.revoked:
            error = f"no playbook {step.get('playbook_id')!r} to run (unknown or revoked)"
        elif run_depth(self.session, self.run) >= MAX_DEPTH:
            error = f"playbook-action refused: runs nested deeper than {MAX_DEPTH}"
        if error is not None or playbook is None:
            self._fail(thread, step_id, step, error or "", inputs=inputs)
            return
        row = self._record(thread, step_id, step, StepStatus.WAITING, inputs=inputs)
        child = start_run(self.session, playbook, origin=RunOrigin.PLAYBOOK,
                          dedupe_key=f"playbook-run:{self.run.id}:step:{row.seq}",
                          actor=self.actor, clock=self.clock, settings=self.settings,
                          incident=self.run_incident(), organisation=self.run_organisation(),
                          parent_run=self.run, variables=args)  # fmt: skip
        if child is None:  # cannot happen: the key names this very step record
            raise flow.FlowError("the child run already exists")
        row.child_run_id, row.result = child.id, f"run #{child.id} started"
        thread["wait"] = {"kind": "child", "seq": row.seq, "child": child.id,
                          "timeout_at": self._timeout_at(step)}  # fmt: skip

    # ------------------------------------------------------------ actions
    def _action(self, thread: Thread, step_id: str, step: Mapping[str, Any]) -> None:
        commands = [c for c in step.get("commands") or [] if isinstance(c, Mapping)]
        variables = self._scope(step)
        resume = thread.pop("resume", None)
        if resume is not None:
            row, start = self._row(resume["seq"]), int(resume["next"])
            if row is None:
                raise flow.FlowError(f"the record of step {resume['seq']} is missing")
        else:
            names = flow.arg_names(step, "in_args")
            inputs = {"commands": [registry.key_of(c) for c in commands],
                      "in_args": {n: variables.get(n) for n in names}}  # fmt: skip
            row, start = self._record(thread, step_id, step, StepStatus.WAITING, inputs=inputs), 0
        outputs = dict(row.outputs or {})
        variables.update(outputs)
        results = [row.result] if row.result else []
        for index in range(start, len(commands)):
            outcome = self._call(step_id, step, commands[index], variables)
            outputs.update(_jsonable(outcome.outputs))
            variables.update(outcome.outputs)
            if outcome.result:
                results.append(outcome.result)
            row.outputs, row.result = dict(outputs), "; ".join(results)[:300] or None
            if not outcome.ok:
                error = outcome.error or "the command failed"
                self._close(row, StepStatus.FAILED, error=error)
                self._after(thread, step_id, False, error)
                return
            if outcome.wait_for_task is not None or outcome.wait_until is not None:
                row.status, row.task_id = StepStatus.WAITING, outcome.wait_for_task
                wait: dict[str, Any] = {"seq": row.seq, "next": index + 1,
                                        "timeout_at": self._timeout_at(step)}  # fmt: skip
                if outcome.wait_for_task is not None:
                    thread["wait"] = {**wait, "kind": "task", "task": outcome.wait_for_task}
                else:
                    until = when(outcome.wait_until)  # type: ignore[arg-type]
                    thread["wait"] = {**wait, "kind": "until", "until": until}
                return
        flow.keep_outputs(self.state, outputs, self._output_names(step, commands))
        self._close(row, StepStatus.COMPLETED)
        self._after(thread, step_id, True)

    def _call(
        self, step_id: str, step: Mapping[str, Any], command: Mapping[str, Any],
        variables: Mapping[str, Any],
    ) -> registry.CommandOutcome:  # fmt: skip
        key = registry.key_of(command)
        found = registry.executor(key)
        if found is None:
            return registry.CommandOutcome(ok=False, error=f"no executor for command {key!r}")
        call = registry.CommandCall(
            run=self.run, step_id=step_id, step=step, command=command, variables=variables,
            incident=self.run_incident(), organisation=self.run_organisation(), actor=self.actor,
            clock=self.clock, settings=self.settings,
        )  # fmt: skip
        try:
            with self.session.begin_nested():
                return found.fn(self.session, call)
        except Exception as exc:  # an executor's error fails its step, not the engine
            fields = getattr(exc, "fields", None) or {}
            detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
            return registry.CommandOutcome(
                ok=False, error=f"{key}: {exc}" + (f" ({detail})" if detail else "")
            )

    @staticmethod
    def _output_names(step: Mapping[str, Any], commands: list[Mapping[str, Any]]) -> set[str]:
        names = set(flow.arg_names(step, "out_args"))
        for command in commands:
            action = (
                ACTIONS.get(str(command.get("command")))
                if command.get("type") == "x-vigie"
                else None
            )
            names.update(action.outputs if action is not None else ())
        return names

    def _external(self, thread: Thread, step: Mapping[str, Any]) -> bool:
        if step.get("type") != "action":
            return False
        start = int((thread.get("resume") or {}).get("next", 0))
        commands = [c for c in step.get("commands") or [] if isinstance(c, Mapping)][start:]
        return any((r := registry.executor(registry.key_of(c))) and r.external for c in commands)

    def begin_external(self, thread_id: str) -> None:
        """Record the step of ``thread_id`` as ``interrupted`` (committed by the caller before
        the call: a crash leaves it so, and it is never called again)."""
        thread = flow.thread_by_id(self.state, thread_id)
        if thread is None:
            raise flow.FlowError(f"no thread {thread_id!r}")
        resume = thread.pop("resume", None)
        row = self._row(resume["seq"]) if resume is not None else None
        if resume is not None and row is not None:
            start = int(resume["next"])
            row.status = StepStatus.INTERRUPTED
        else:
            step = flow.step_of(self.document, thread["at"])
            commands = [registry.key_of(c) for c in step.get("commands") or []]
            row = self._record(thread, thread["at"], step, StepStatus.INTERRUPTED,
                               inputs={"commands": commands})  # fmt: skip
            start = 0
        thread["wait"] = {"kind": "external", "seq": row.seq, "next": start,
                          "since": when(self.now)}  # fmt: skip

    def finish_external(self, thread_id: str) -> None:
        """Call the step recorded by :meth:`begin_external` (when it is still as left)."""
        thread = flow.thread_by_id(self.state, thread_id)
        wait = (thread or {}).get("wait") or {}
        row = self._row(wait.get("seq")) if wait.get("kind") == "external" else None
        if thread is None or row is None or row.status != StepStatus.INTERRUPTED:
            return
        thread["wait"] = None
        thread["resume"] = {"seq": row.seq, "next": wait["next"]}
        self._action(thread, thread["at"], flow.step_of(self.document, thread["at"]))

    # ------------------------------------------------------------ moving on
    def _after(self, thread: Thread, step_id: str, ok: bool, error: str | None = None) -> None:
        step = flow.step_of(self.document, step_id)
        target = flow.successor(step, ok)
        if target is not None:
            flow.move(thread, target)
        elif ok:
            self._end(thread)  # nowhere said: the end of its flow
        else:
            self._failure(f"step {step.get('name') or step_id} failed: {error}")

    def _end(self, thread: Thread) -> None:
        if flow.leave(self.document, thread) == "continue":
            return
        if thread.get("parent") is not None:
            parent = flow.branch_done(self.state, thread)
            if parent is not None:
                self._after(parent, parent["at"], True)
            return
        failure = self.state.get("failure")
        self._finish(RunStatus.FAILED if failure else RunStatus.COMPLETED, failure)

    def _failure(self, message: str) -> None:
        handler = self.document.get("workflow_exception")
        if isinstance(handler, str) and handler in self.document["workflow"]:
            if not self.state.get("failure"):
                self.state["failure"] = message
                self.state["threads"] = [{"id": "", "at": handler, "frames": [], "parent": None,
                                          "wait": None, "delayed": None}]  # fmt: skip
                return
            message = f"{self.state['failure']}; then {message}"
        self._finish(RunStatus.FAILED, message)

    def _finish(self, status: RunStatus, error: str | None) -> None:
        if self.finished:
            return
        finish_run(self.session, self.run, status, error, clock=self.clock, actor=self.actor)
        for thread in flow.threads(self.state):  # steps left waiting end with the run
            row = self._row((thread.get("wait") or {}).get("seq"))
            if row is not None and row.status == StepStatus.WAITING:
                self._close(row, StepStatus.FAILED, error=f"the run ended ({status})")

    # ------------------------------------------------------------ records
    def _record(self, thread: Thread, step_id: str, step: Mapping[str, Any], status: StepStatus,
                **fields: Any) -> PlaybookStepRun:  # fmt: skip
        self.run.steps_done += 1
        row = PlaybookStepRun(
            run_id=self.run.id, seq=self.run.steps_done, step_id=step_id[:120],
            step_type=str(step.get("type", ""))[:32], name=_name(step), thread=thread["id"],
            status=status, inputs=_jsonable(fields.pop("inputs", {})),
            outputs=_jsonable(fields.pop("outputs", {})), started_at=self.now,
            ended_at=self.now if status in (StepStatus.COMPLETED, StepStatus.FAILED) else None,
            **fields,
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        return row

    def _fail(self, thread: Thread, step_id: str, step: Mapping[str, Any], error: str,
              **fields: Any) -> None:  # fmt: skip
        self._record(thread, step_id, step, StepStatus.FAILED, error=error, **fields)
        self._after(thread, step_id, False, error)

    def _close(self, row: PlaybookStepRun, status: StepStatus, *, error: str | None = None) -> None:
        row.status, row.error, row.ended_at = status, error, self.now
        if status == StepStatus.COMPLETED:
            row.error = None

    def _row(self, seq: object) -> PlaybookStepRun | None:
        if not isinstance(seq, int):
            return None
        return self.session.query(PlaybookStepRun).filter_by(run_id=self.run.id, seq=seq).first()

    def _scope(self, step: Mapping[str, Any]) -> dict[str, Any]:
        context = context_variables(self.run, self.run_incident(), self.run_organisation(),
                                    now=self.now, settings=self.settings)  # fmt: skip
        return flow.scope(self.state, step, context)

    def _timeout_at(self, step: Mapping[str, Any]) -> str | None:
        timeout = ms(step.get("timeout"))
        return when(self.now + timeout) if timeout else None

    def run_incident(self) -> Incident | None:
        return self.session.get(Incident, self.run.incident_id) if self.run.incident_id else None

    def run_organisation(self) -> Organisation | None:
        org_id = self.run.organisation_id
        return self.session.get(Organisation, org_id) if org_id else None


def _name(step: Mapping[str, Any]) -> str | None:
    name = step.get("name")
    return str(name)[:300] if name else None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
