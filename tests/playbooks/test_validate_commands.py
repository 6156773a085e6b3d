"""``validate``, one broken document per rule of what a step does — commands, agents and targets,
the http-api and x-vigie commands, variables and arguments, and the steps' own properties — each
problem at its exact JSON path."""

from __future__ import annotations

from tests.playbooks.validate_kit import (
    NOT_RUN,
    Case,
    Doc,
    add_step,
    assert_names_its_path,
    branch,
    cases_of,
    each_case,
    steps,
    w,
    with_action,
    with_command,
)


def case_no_commands(d: Doc) -> tuple[str, str]:
    with_action(d, commands=[])
    return w(steps(d)[1]) + ".commands", "needs a list of commands"


def case_agent_missing(d: Doc) -> tuple[str, str]:
    del d["workflow"][steps(d)[1]]["agent"]
    return w(steps(d)[1]) + ".agent", "required property missing"


def case_agent_undefined(d: Doc) -> tuple[str, str]:
    with_action(d, agent="individual--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51")
    return w(steps(d)[1]) + ".agent", "is not a key of agent_definitions"


def case_target_undefined(d: Doc) -> tuple[str, str]:
    with_action(d, targets=["organization--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"])
    return w(steps(d)[1]) + ".targets[0]", "is not a key of target_definitions"


def case_unknown_command(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "telnet", "command": "x"})
    return w(steps(d)[1]) + ".commands[0].type", "unknown command type 'telnet'"


def case_ssh(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "ssh", "command": "reboot"})
    return w(steps(d)[1]) + ".commands[0].type", NOT_RUN


def case_manual_empty(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual"})
    return w(steps(d)[1]) + ".commands[0]", "needs command or command_b64"


def case_manual_b64(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual", "command_b64": "not base64!"})
    return w(steps(d)[1]) + ".commands[0].command_b64", "must be valid base64"


def case_http_line(d: Doc) -> tuple[str, str]:
    d["agent_definitions"]["http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"] = {
        "type": "http-api", "address": {"dname": ["soc.example"]}}  # fmt: skip
    with_action(d, agent="http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51",
                commands=[{"type": "http-api", "command": "FETCH api/block"}])  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].command", "must be an HTTP request line"


def case_http_agent(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "http-api", "command": "POST /api/block HTTP/1.1"})
    return w(steps(d)[1]) + ".agent", "an agent or a target of type http-api with an address"


def case_http_header(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "http-api", "command": "GET / HTTP/1.1", "headers": {"X": [1]}})
    return w(steps(d)[1]) + ".commands[0].headers['X']", "must be a list of strings"


def case_vigie_unknown_action(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "format-disk", "arguments": {}})
    return w(steps(d)[1]) + ".commands[0].command", "unknown Vigie action 'format-disk'"


def case_vigie_missing_argument(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task", "arguments": {}})
    return w(steps(d)[1]) + ".commands[0].arguments.title", "required argument of add-task"


def case_vigie_unknown_argument(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task",
                     "arguments": {"title": "t", "colour": "red"}})  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].arguments.colour", "unknown argument of add-task"


def case_vigie_argument_type(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task",
                     "arguments": {"title": "t", "due_hours": "24"}})  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].arguments.due_hours", "must be an integer"


def case_vigie_arguments_not_object(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "add-task", "arguments": ["t"]})
    return w(steps(d)[1]) + ".commands[0].arguments", "must be an object"


def case_variable_name(d: Doc) -> tuple[str, str]:
    d["playbook_variables"] = {"target": {"type": "string"}}
    return "$.playbook_variables['target']", "a variable name is __name__"


def case_variable_type(d: Doc) -> tuple[str, str]:
    d["playbook_variables"] = {"__target__": {"type": "text"}}
    return "$.playbook_variables['__target__'].type", "must be one of"


def case_variable_value(d: Doc) -> tuple[str, str]:
    d["playbook_variables"] = {"__tries__": {"type": "integer", "value": 0}}
    return "$.playbook_variables['__tries__'].value", "must be a string (CACAO values are text)"


def case_step_variable_type(d: Doc) -> tuple[str, str]:
    with_action(d, step_variables={"__x__": {"type": "blob"}})
    return w(steps(d)[1]) + ".step_variables['__x__'].type", "must be one of"


def case_undeclared_in_command(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual", "command": "Block __suspect_ip__:value"})
    return w(steps(d)[1]) + ".commands[0].command", "variable __suspect_ip__ is not declared"


def case_undeclared_legacy(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "manual", "command": "Block $$suspect_ip$$"})
    return w(steps(d)[1]) + ".commands[0].command", "variable __suspect_ip__ is not declared"


def case_undeclared_in_argument(d: Doc) -> tuple[str, str]:
    with_command(d, {"type": "x-vigie", "command": "notify-leads",
                     "arguments": {"message": "Hits: __hitz__:value"}})  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].arguments.message", "variable __hitz__ is not declared"


def case_undeclared_in_header(d: Doc) -> tuple[str, str]:
    d["target_definitions"] = {"http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51": {
        "type": "http-api", "address": {"url": ["https://soc.example/"]}}}  # fmt: skip
    with_action(d, targets=["http-api--0b8a4b2e-6f1d-4c35-9a53-7d1f2c3e4a51"],
                commands=[{"type": "http-api", "command": "GET /x HTTP/1.1",
                           "headers": {"Authorization": ["Bearer __token__:value"]}}])  # fmt: skip
    return w(steps(d)[1]) + ".commands[0].headers['Authorization']", "__token__ is not declared"


def case_undeclared_in_condition(d: Doc) -> tuple[str, str]:
    key = branch(d, "if-condition", condition="__score__:value > 5", on_true=steps(d)[1],
                 on_false=steps(d)[2])  # fmt: skip
    return w(key) + ".condition", "variable __score__ is not declared"


def case_in_args(d: Doc) -> tuple[str, str]:
    with_action(d, in_args=["__nothing__"])
    return w(steps(d)[1]) + ".in_args[0]", "'__nothing__' is not a declared variable"


def case_out_args(d: Doc) -> tuple[str, str]:
    with_action(d, out_args=["__result__"])
    return w(steps(d)[1]) + ".out_args[0]", "'__result__' is not a declared variable"


def case_playbook_action_id(d: Doc) -> tuple[str, str]:
    key = branch(d, "playbook-action", playbook_id="other-playbook", on_completion=steps(d)[1])
    return w(key) + ".playbook_id", "must be 'playbook--' followed by a UUID"


def case_playbook_types(d: Doc) -> tuple[str, str]:
    d["playbook_types"] = "investigation"
    return "$.playbook_types", "must be a list of strings"


def case_revoked(d: Doc) -> tuple[str, str]:
    d["revoked"] = "no"
    return "$.revoked", "must be true or false"


def case_unknown_property(d: Doc) -> tuple[str, str]:
    d["workflow_starts"] = d["workflow_start"]
    return "$.workflow_starts", "unknown property (did you mean 'workflow_start'?)"


def case_unknown_step_property(d: Doc) -> tuple[str, str]:
    with_action(d, **{"on-failure": steps(d)[2]})
    return w(steps(d)[1]) + "['on-failure']", "did you mean 'on_failure'?"


def case_step_not_object(d: Doc) -> tuple[str, str]:
    key = add_step(d, "end")
    d["workflow"][key] = "end"
    return w(key), "a step is an object with a type"


def case_delay(d: Doc) -> tuple[str, str]:
    with_action(d, delay=-5)
    return w(steps(d)[1]) + ".delay", "whole number of milliseconds"


CASES = cases_of(globals())


@each_case(CASES)
def test_each_rule_names_its_path(case: Case) -> None:
    assert_names_its_path(case)
