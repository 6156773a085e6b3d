"""What every x-vigie executor shares (Flask-free): its arguments checked again at run time
against :data:`playbooks.rules.vocabulary.ACTIONS` (a document imported under an older
vocabulary, or changed by hand, fails the step with the argument's name, never a traceback),
variables substituted as plain text, and the failures of the services it calls turned into a
failed step with their reason.

:func:`vigie_action` registers an executor for ``x-vigie:<name>``: it checks the arguments and
the run's incident or organisation, runs the body in a savepoint (a refused change leaves
nothing half-written in the step's transaction) and returns a :class:`CommandOutcome`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.errors import DomainError
from playbooks.engine.registry import CommandCall, CommandOutcome, register
from playbooks.rules.substitution import UnknownVariable, plain, references, substitute
from playbooks.rules.vocabulary import ACTIONS, Arg


class ActionError(Exception):
    """Why an action cannot run (the step fails with this text)."""


@dataclass(frozen=True)
class Invocation:
    """A call with its arguments checked and substituted."""

    call: CommandCall
    args: dict[str, Any]

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.args.get(name)
        return default if value is None or value == "" else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.args.get(name)
        return default if value is None else int(value)


Body = Callable[[Session, Invocation], CommandOutcome]


def check_arguments(call: CommandCall, name: str) -> dict[str, Any]:
    """The arguments of ``call`` for action ``name``, checked and substituted (``plain``);
    :class:`ActionError` naming the first bad one (``arguments.<name>``)."""
    action = ACTIONS[name]
    raw = call.command.get("arguments")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ActionError("arguments: must be an object")
    for key in raw:
        if key not in action.args:
            raise ActionError(f"arguments.{key}: unknown argument of {name}")
    result: dict[str, Any] = {}
    for key, spec in action.args.items():
        if raw.get(key) is None:
            if spec.required:
                raise ActionError(f"arguments.{key}: required by {name}")
            continue
        result[key] = _value(key, spec, raw[key], call.variables)
    if action.needs_incident and call.incident is None:
        raise ActionError(f"{name} needs a run on an incident; this run has none")
    if action.needs_organisation and call.organisation is None:
        raise ActionError(f"{name} needs a run for an organisation; this run has none")
    return result


def _value(key: str, spec: Arg, value: Any, variables: Mapping[str, Any]) -> Any:
    where = f"arguments.{key}"
    if isinstance(value, str):
        try:
            text = substitute(value, variables, escape=plain)
        except UnknownVariable as exc:
            raise ActionError(f"{where}: {exc}") from None
        if spec.type == "string":
            return text.strip()
        if spec.type == "integer" and references(value) and text.strip().lstrip("-").isdigit():
            return int(text)
        if spec.type == "boolean" and references(value) and text.strip() in ("true", "false"):
            return text.strip() == "true"
    elif (spec.type == "integer" and isinstance(value, int) and not isinstance(value, bool)) or (
        spec.type == "boolean" and isinstance(value, bool)
    ):
        return value
    elif spec.type == "list" and isinstance(value, list):
        return [substitute(v, variables, escape=plain) if isinstance(v, str) else v for v in value]
    raise ActionError(f"{where}: must be {'an' if spec.type == 'integer' else 'a'} {spec.type}")


def reason(exc: BaseException) -> str:
    """One line: a service's refusal with the fields it names."""
    if isinstance(exc, DomainError) and exc.fields:
        details = "; ".join(f"{field}: {why}" for field, why in exc.fields.items())
        return f"{exc} ({details})"
    return str(exc) or type(exc).__name__


def failed(error: str) -> CommandOutcome:
    return CommandOutcome(ok=False, error=error[:2000])


def run_body(
    session: Session, call: CommandCall, name: str, body: Body, *, savepoint: bool = True
) -> CommandOutcome:
    """Check, then run ``body`` (in a savepoint unless the body owns its transactions, as a
    feed poll does); a refusal fails the step with its reason."""
    try:
        args = check_arguments(call, name)
    except ActionError as exc:
        return failed(str(exc))
    try:
        if not savepoint:
            return body(session, Invocation(call, args))
        with session.begin_nested():
            return body(session, Invocation(call, args))
    except ActionError as exc:
        return failed(str(exc))
    except DomainError as exc:
        return failed(f"{name}: {reason(exc)}")


def vigie_action(
    name: str, *, external: bool = False, savepoint: bool = True
) -> Callable[[Body], Body]:
    """Register ``body`` as the executor of ``x-vigie:<name>`` (see the module docstring)."""
    if name not in ACTIONS:
        raise ValueError(f"{name!r} is not in the vocabulary")

    def decorate(body: Body) -> Body:
        def executor(session: Session, call: CommandCall) -> CommandOutcome:
            return run_body(session, call, name, body, savepoint=savepoint)

        executor.__name__ = executor.__qualname__ = f"x_vigie_{name.replace('-', '_')}"
        executor.__doc__ = body.__doc__
        register(f"x-vigie:{name}", executor, external=external)
        return body

    return decorate


def run_label(call: CommandCall) -> str:
    """``playbook "<name>" (run #<id>)``, for reasons, comments and messages."""
    name = call.run.playbook.name if call.run.playbook is not None else "?"
    return f'playbook "{name}" (run #{call.run.id})'
