"""Checks of an ``action`` step's commands, agent, targets and arguments, and of variables
(pure; part of :func:`playbooks.rules.validate.validate`).

Vigie runs three command types: ``manual`` (a task on the incident), ``http-api`` (towards an
``http-api`` agent or target with an address, on the allow-list at run time) and ``x-vigie``
(its own actions, :mod:`playbooks.rules.vocabulary`); any other CACAO command type is refused
with that reason. Every variable reference (``__name__:value``) in a command, an argument, a
header, a body, a condition or a switch must name a variable the step sees (:class:`Scope`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from playbooks.rules.cacao import (
    COMMAND_TYPES,
    CONTEXT_VARIABLES,
    RUNNABLE_COMMANDS,
    VARIABLE_NAME,
    VARIABLE_REFERENCE,
    VARIABLE_TYPES,
    VIGIE_COMMAND,
)
from playbooks.rules.problems import Problem, at, item, mapping, prop, text
from playbooks.rules.substitution import references
from playbooks.rules.vocabulary import ACTIONS, Arg

RUNS = "only manual, http-api and x-vigie"
HTTP_LINE = re.compile(
    r"^(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (?P<target>\S+)(?: HTTP/\d(?:\.\d)?)?$"
)
HTTP_EXAMPLE = "e.g. 'POST /api/block HTTP/1.1'"
TYPE_WORDS = {"string": "a string", "integer": "an integer", "boolean": "a boolean",
              "list": "a list"}  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """The variables every step sees: ``playbook_variables``, Vigie's context variables, the
    outputs of the document's x-vigie actions and every step's ``out_args``."""

    names: frozenset[str]
    declared: frozenset[str]  # playbook_variables only

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Scope:
        declared = frozenset(_keys(document.get("playbook_variables")))
        names = set(CONTEXT_VARIABLES) | declared
        for value in (mapping(document.get("workflow")) or {}).values():
            step = mapping(value) or {}
            names |= set(_strings(step.get("out_args"))) | set(_outputs(step))
        return cls(frozenset(names), declared)

    def of_step(self, step: Mapping[str, Any]) -> Visible:
        return Visible(self.names, frozenset(_keys(step.get("step_variables"))))


@dataclass(frozen=True)
class Visible:
    """The variables one step sees: the playbook's scope and its own (never copied together:
    a document with thousands of steps and variables stays linear)."""

    shared: frozenset[str]
    own: frozenset[str] = frozenset()

    def __contains__(self, name: object) -> bool:
        return name in self.own or name in self.shared


def variable_declarations(path: str, value: object) -> list[Problem]:
    """``playbook_variables`` / ``step_variables``: names ``__name__``, known types."""
    if value is None:
        return []
    declared = mapping(value)
    if declared is None:
        return [Problem(path, "must be an object of variables")]
    problems = []
    for name, variable in declared.items():
        where = at(path, name)
        if not VARIABLE_NAME.match(name):
            problems.append(Problem(where, "a variable name is __name__ (letters, digits, _, -)"))
        spec = mapping(variable)
        if spec is None:
            problems.append(Problem(where, "a variable is an object with a type"))
        elif not isinstance(spec.get("type"), str) or spec["type"] not in VARIABLE_TYPES:
            known = ", ".join(sorted(VARIABLE_TYPES))
            problems.append(Problem(prop(where, "type"), f"must be one of {known}"))
        else:
            if spec.get("value") is not None and not isinstance(spec["value"], str):
                message = "must be a string (CACAO values are text)"
                problems.append(Problem(prop(where, "value"), message))
            problems += [Problem(prop(where, flag), "must be true or false")
                         for flag in ("constant", "external")
                         if flag in spec and not isinstance(spec[flag], bool)]  # fmt: skip
    return problems


def undeclared(path: str, value: object, visible: Visible) -> list[Problem]:
    """A problem for each variable ``value`` (a string) refers to that the step does not see."""
    if not isinstance(value, str):
        return []
    missing = dict.fromkeys(name for name in references(value) if name not in visible)
    return [Problem(path, f"variable {name} is not declared (playbook_variables, the step's "
                    "step_variables, Vigie's context variables or a step's outputs)")
            for name in missing]  # fmt: skip


def check_action(
    document: Mapping[str, Any], path: str, step: Mapping[str, Any], scope: Scope
) -> list[Problem]:
    visible = scope.of_step(step)
    problems = _agent_and_targets(document, path, step)
    commands = step.get("commands")
    if not isinstance(commands, list) or not commands:
        problems.append(Problem(prop(path, "commands"), "an action step needs a list of commands"))
        commands = []
    http = False
    for index, command in enumerate(commands):
        where = item(prop(path, "commands"), index)
        problems += check_command(where, command, visible)
        http = http or (mapping(command) or {}).get("type") == "http-api"
    if http and http_endpoint(document, step) is None:
        problems.append(
            Problem(
                prop(path, "agent"),
                "an http-api command needs an agent or a target of type http-api with an address",
            )
        )
    return problems + check_args(path, step, scope)


def check_args(path: str, step: Mapping[str, Any], scope: Scope) -> list[Problem]:
    """``in_args`` name variables the step sees; ``out_args`` variables it may set (declared
    in ``playbook_variables`` or its ``step_variables``, or an output of its x-vigie actions)."""
    problems: list[Problem] = []
    here = frozenset(_keys(step.get("step_variables")))
    settable = Visible(scope.declared, here | frozenset(_outputs(step)))
    for key, allowed in (("in_args", scope.of_step(step)), ("out_args", settable)):
        if key not in step:
            continue
        names = step[key]
        if not isinstance(names, list):
            problems.append(Problem(prop(path, key), "must be a list of variable names"))
            continue
        for index, name in enumerate(names):
            if not isinstance(name, str) or name not in allowed:
                problems.append(
                    Problem(item(prop(path, key), index), f"{name!r} is not a declared variable")
                )
    return problems


def check_command(path: str, command: object, visible: Visible) -> list[Problem]:
    spec = mapping(command)
    if spec is None:
        return [Problem(path, "a command is an object with a type")]
    kind = spec.get("type")
    if kind is None:
        return [Problem(prop(path, "type"), "required property missing")]
    if kind == VIGIE_COMMAND:
        return _vigie(path, spec, visible)
    if not isinstance(kind, str) or kind not in COMMAND_TYPES:
        return [Problem(prop(path, "type"), f"unknown command type {kind!r}: Vigie runs {RUNS}")]
    if kind not in RUNNABLE_COMMANDS:
        return [Problem(prop(path, "type"), f"Vigie does not run {kind} commands: {RUNS}")]
    if kind == "manual":
        return _manual(path, spec, visible)
    return _http(path, spec, visible)


def http_endpoint(document: Mapping[str, Any], step: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``http-api`` agent-target an http-api command of ``step`` calls: its agent when of
    type http-api with an address, else its first such target (SOARCA names the executor as
    agent and the API as target)."""
    agents = mapping(document.get("agent_definitions")) or {}
    targets = mapping(document.get("target_definitions")) or {}
    agent = step.get("agent")
    candidates = [agents.get(agent)] if isinstance(agent, str) else []
    candidates += [targets.get(t) for t in _strings(step.get("targets"))]
    for candidate in candidates:
        spec = mapping(candidate)
        if spec is not None and spec.get("type") == "http-api" and _address(spec.get("address")):
            return spec
    return None


# ---------------------------------------------------------------- command types
def _manual(path: str, spec: Mapping[str, Any], visible: Visible) -> list[Problem]:
    if "command" not in spec and "command_b64" not in spec:
        return [Problem(path, "a manual command needs command or command_b64")]
    problems = []
    if "command" in spec:
        if not text(spec["command"]):
            problems.append(Problem(prop(path, "command"), "must be a non-empty string"))
        problems += undeclared(prop(path, "command"), spec["command"], visible)
    if "command_b64" in spec and not _base64(spec["command_b64"]):
        problems.append(Problem(prop(path, "command_b64"), "must be valid base64"))
    return problems


def _http(path: str, spec: Mapping[str, Any], visible: Visible) -> list[Problem]:
    problems: list[Problem] = []
    line = spec.get("command")
    match = HTTP_LINE.match(line) if isinstance(line, str) else None
    target = match.group("target") if match else ""
    if not (target.startswith("/") or VARIABLE_REFERENCE.match(target)):
        problems.append(
            Problem(
                prop(path, "command"),
                "must be an HTTP request line: a method, "
                f"a path starting with / and optionally HTTP/1.1 ({HTTP_EXAMPLE})",
            )
        )
    problems += undeclared(prop(path, "command"), line, visible)
    headers = spec.get("headers", {})
    if mapping(headers) is None:
        problems.append(Problem(prop(path, "headers"), "must be an object: name → list of values"))
    for name, given in (mapping(headers) or {}).items():
        where = at(prop(path, "headers"), name)
        values = [given] if isinstance(given, str) else given
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.append(Problem(where, "must be a list of strings"))
            continue
        for value in values:
            problems += undeclared(where, value, visible)
    if "content" in spec and "content_b64" in spec:
        problems.append(Problem(path, "give content or content_b64, not both"))
    if "content" in spec and not isinstance(spec["content"], str):
        problems.append(Problem(prop(path, "content"), "must be a string"))
    problems += undeclared(prop(path, "content"), spec.get("content"), visible)
    if "content_b64" in spec and not _base64(spec["content_b64"]):
        problems.append(Problem(prop(path, "content_b64"), "must be valid base64"))
    return problems


def _vigie(path: str, spec: Mapping[str, Any], visible: Visible) -> list[Problem]:
    name = spec.get("command")
    action = ACTIONS.get(name) if isinstance(name, str) else None
    if action is None:
        known = ", ".join(sorted(ACTIONS))
        return [Problem(prop(path, "command"), f"unknown Vigie action {name!r} (one of {known})")]
    arguments = spec.get("arguments", {})
    where = prop(path, "arguments")
    if mapping(arguments) is None:
        return [Problem(where, "must be an object: argument name → value")]
    problems = [Problem(prop(where, key), f"required argument of {action.name} missing")
                for key, arg in action.args.items()
                if arg.required and key not in arguments]  # fmt: skip
    for key, value in arguments.items():
        arg = action.args.get(key)
        if arg is None:
            takes = ", ".join(action.args) or "no arguments"
            problems.append(
                Problem(prop(where, key), f"unknown argument of {action.name} (takes {takes})")
            )
        elif not _of_type(value, arg):
            problems.append(Problem(prop(where, key), f"must be {TYPE_WORDS[arg.type]}"))
        else:
            problems += undeclared(prop(where, key), value, visible)
    return problems


# ---------------------------------------------------------------- helpers
def _agent_and_targets(
    document: Mapping[str, Any], path: str, step: Mapping[str, Any]
) -> list[Problem]:
    problems = []
    agents = mapping(document.get("agent_definitions")) or {}
    agent = step.get("agent")
    if "agent" not in step:
        problems.append(Problem(prop(path, "agent"), "required property missing"))
    elif not isinstance(agent, str) or agent not in agents:
        problems.append(
            Problem(prop(path, "agent"), f"{agent!r} is not a key of agent_definitions")
        )
    if "targets" in step:
        targets, defined = step["targets"], mapping(document.get("target_definitions")) or {}
        if not isinstance(targets, list) or not targets:
            problems.append(Problem(prop(path, "targets"), "must be a non-empty list"))
            targets = []
        problems += [Problem(item(prop(path, "targets"), i), f"{t!r} is not a key of "
                             "target_definitions") for i, t in enumerate(targets)
                     if not isinstance(t, str) or t not in defined]  # fmt: skip
    return problems


def _of_type(value: object, arg: Arg) -> bool:
    if arg.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if arg.type == "boolean":
        return isinstance(value, bool)
    if arg.type == "list":
        return isinstance(value, list)
    return isinstance(value, str)


def _outputs(step: Mapping[str, Any]) -> Iterable[str]:
    commands = step.get("commands")
    for command in commands if isinstance(commands, list) else []:
        spec = mapping(command) or {}
        action = ACTIONS.get(spec["command"]) if isinstance(spec.get("command"), str) else None
        if spec.get("type") == VIGIE_COMMAND and action is not None:
            yield from action.outputs


def _keys(value: object) -> list[str]:
    return [k for k in (mapping(value) or {}) if isinstance(k, str)]


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _address(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    spec = mapping(value)
    return spec is not None and any(bool(v) for v in spec.values())


def _base64(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
