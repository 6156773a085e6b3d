"""A run's records and moves (Flask-free; the base of :class:`playbooks.engine.steps.Stepper`):
the state read from the locked run and written back (:meth:`RunRecords.save`), the step
records appended one per step, and where a thread goes after a step (on_success / on_failure,
the end of a sub-flow or a branch, ``workflow_exception``, the end of the run)."""

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
from incidents.models import Incident
from playbooks.engine.context import context_variables, ms, when
from playbooks.engine.runs import finish_run
from playbooks.models import PlaybookRun, PlaybookStepRun, RunStatus, StepStatus
from playbooks.rules import flow
from playbooks.settings import PlaybookSettings

Thread = dict[str, Any]


class RunRecords:
    """The run, its state and its step records (see the module docstring)."""

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
        if not self.finished:
            finish_run(self.session, self.run, status, error, clock=self.clock, actor=self.actor)

    # ------------------------------------------------------------ records
    def _record(self, thread: Thread, step_id: str, step: Mapping[str, Any], status: StepStatus,
                **fields: Any) -> PlaybookStepRun:  # fmt: skip
        self.run.steps_done += 1
        row = PlaybookStepRun(
            run_id=self.run.id, seq=self.run.steps_done, step_id=step_id[:120],
            step_type=str(step.get("type", ""))[:32], name=_name(step), thread=thread["id"],
            status=status, inputs=jsonable(fields.pop("inputs", {})),
            outputs=jsonable(fields.pop("outputs", {})), started_at=self.now,
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


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
