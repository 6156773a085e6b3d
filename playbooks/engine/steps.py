"""Executing the steps of one run (Flask-free use case, driven by :mod:`.runner`).

A :class:`Stepper` works on one locked run in the caller's transaction: it runs the steps its
threads can run now (``start``, ``end``, ``action``, ``if-``/``while-``/``switch-condition``,
``parallel``, ``playbook-action``; :mod:`playbooks.rules.flow` says where each goes), appends
one :class:`PlaybookStepRun` per step and writes the state back. It stops before a step whose
commands act outside the database (``external``): the runner commits a record of it first
(:meth:`begin_external`), then calls it in a new transaction (:meth:`finish_external`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from incidents.models import IncidentTask
from playbooks.engine import registry
from playbooks.engine.context import find_playbook, ms, when
from playbooks.engine.records import RunRecords, jsonable
from playbooks.engine.runs import finish_run, run_depth, start_run
from playbooks.models import PlaybookRun, PlaybookStepRun, RunOrigin, RunStatus, StepStatus
from playbooks.rules import flow
from playbooks.rules.conditions import ConditionError, evaluate, parse_condition
from playbooks.rules.substitution import as_text
from playbooks.rules.vocabulary import ACTIONS

MAX_DEPTH = 5  # playbook-action: a run of a run of … at most this deep
TIMEOUT = "ACTION_TIMEOUT"
INTERRUPTED = "interrupted: not repeated (the scheduler stopped during the call)"
Thread = dict[str, Any]


class Stepper(RunRecords):
    """Runs the steps of one locked run (see the module docstring)."""

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
            outputs.update(jsonable(outcome.outputs))
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
