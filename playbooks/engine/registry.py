"""Command executors, by command type (Flask-free): the engine looks up how to run a command
here; :mod:`playbooks.actions` registers Vigie's (``manual``, ``http-api`` and each ``x-vigie``
action) when the slice is imported.

An executor gets the session of the step's transaction and a :class:`CommandCall` (the command
as the document has it, and the variables the step sees: the executor substitutes them with the
escaping its command type needs, :mod:`playbooks.rules.substitution`) and returns a
:class:`CommandOutcome`. It writes through the session and never commits: the engine records the
step in the same transaction, so the effects and the step's record are kept or lost together. An
executor that acts outside the database (``external``: an HTTP call) is run by the engine after
a committed "started" record, so that a crash leaves the step ``interrupted``, never run twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.identity.authz import Actor
from playbooks.settings import PlaybookSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.identity.models import Organisation
    from incidents.models import Incident
    from playbooks.models import PlaybookRun


@dataclass(frozen=True)
class CommandCall:
    run: PlaybookRun
    step_id: str
    step: Mapping[str, Any]  # the workflow step, as in the document
    command: Mapping[str, Any]  # the command, as in the document (not substituted)
    variables: Mapping[str, Any]  # "__name__" → value, as the step sees them
    incident: Incident | None
    organisation: Organisation | None
    actor: Actor  # the run's actor: the system, "playbook-run:<id>"
    clock: Clock
    settings: PlaybookSettings


@dataclass
class CommandOutcome:
    ok: bool = True
    outputs: dict[str, Any] = field(default_factory=dict)  # "__name__" → value
    result: str | None = None  # one line for the step's log ("task #12 created")
    error: str | None = None  # why it failed (ok False)
    wait_for_task: int | None = None  # a task id: the step waits until it is done
    wait_until: dt.datetime | None = None  # the step waits until then


Executor = Callable[["Session", CommandCall], CommandOutcome]


Masker = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Registered:
    fn: Executor
    external: bool = False  # acts outside the database (see the module docstring)
    mask: Masker | None = None  # the command as a step's inputs may record it (credentials)


_EXECUTORS: dict[str, Registered] = {}


def key_of(command: Mapping[str, Any]) -> str:
    """``"manual"``, ``"http-api"``, or ``"x-vigie:<action>"``."""
    kind = str(command.get("type", ""))
    if kind == "x-vigie":
        return f"x-vigie:{command.get('command', '')}"
    return kind


def register(key: str, fn: Executor, *, external: bool = False, mask: Masker | None = None) -> None:
    known = _EXECUTORS.get(key)
    if known is not None and known.fn is not fn:
        raise ValueError(f"an executor is already registered for {key!r}")
    _EXECUTORS[key] = Registered(fn, external, mask)


def recorded_command(command: Mapping[str, Any]) -> dict[str, Any]:
    """``command`` as a step's ``inputs`` may store it: its executor's ``mask`` applied (an
    ``http-api`` command's Authorization and other credential headers masked)."""
    found = _EXECUTORS.get(key_of(command))
    return found.mask(command) if found is not None and found.mask is not None else dict(command)


def executor(key: str) -> Registered | None:
    return _EXECUTORS.get(key)


def registered() -> frozenset[str]:
    return frozenset(_EXECUTORS)
