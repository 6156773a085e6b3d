"""Vigie's command vocabulary (pure): the built-in actions a CACAO ``action`` step runs with a
command of type ``x-vigie`` — ``{"type": "x-vigie", "command": "<action>", "arguments": {…}}``.

Each action names its arguments (``required`` or not, with their JSON type) and the outputs it
returns (read by later conditions through the step's ``out_args``). Import refuses an unknown
action, a missing required argument, an unknown argument or one of the wrong type, naming its
JSON path. The implementations are registered by :mod:`playbooks.actions` (one executor per
action); this table is what import and the README document.

Argument values are data, never code: a string may hold variable references
(``__name__:value``), substituted as plain text before the executor sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

ArgType = Literal["string", "integer", "boolean", "list"]


@dataclass(frozen=True)
class Arg:
    type: ArgType = "string"
    required: bool = False


@dataclass(frozen=True)
class Action:
    name: str
    summary: str  # one line, English (the README and the UI's help)
    needs_incident: bool = False  # refused at run time on a run without an incident
    needs_organisation: bool = False  # refused on a run without an organisation
    args: dict[str, Arg] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()  # the variables it sets (``__name__``)


ACTIONS: Final[dict[str, Action]] = {
    a.name: a
    for a in (
        Action(
            "create-incident",
            "Open an incident for the run's organisation (or extend the one the same run "
            "opened); the incident becomes the run's incident.",
            needs_organisation=True,
            args={
                "title": Arg(required=True),
                "category": Arg(required=True),  # RSIT class id
                "type": Arg(),  # RSIT type id
                "description": Arg(),
                "priority": Arg(),  # P1..P4 (default: the rules')
                "tlp": Arg(),  # TLP label (default TLP:AMBER)
            },
            outputs=("__incident_reference__",),
        ),
        Action(
            "add-task",
            "Add a task to the incident without waiting for it (a manual command waits).",
            needs_incident=True,
            args={
                "title": Arg(required=True),
                "assignee": Arg(),  # "incident-assignee" (default) or a staff e-mail
                "due_hours": Arg("integer"),
            },
            outputs=("__task_id__",),
        ),
        Action(
            "notify-organisation",
            "E-mail the organisation's contacts (outbox, in their language, within the "
            "incident's TLP).",
            needs_organisation=True,
            args={"subject": Arg(required=True), "message": Arg(required=True)},
            outputs=("__notified__",),
        ),
        Action(
            "notify-assignee",
            "Notify the incident's assignee (notification centre: in-app and e-mail).",
            needs_incident=True,
            args={"message": Arg(required=True)},
        ),
        Action(
            "notify-leads",
            "Notify the CERT's leads (notification centre).",
            args={"message": Arg(required=True)},
            outputs=("__notified__",),
        ),
        Action(
            "set-priority",
            "Set the incident's priority (P1..P4).",
            needs_incident=True,
            args={"priority": Arg(required=True), "reason": Arg()},  # reason: the run's
        ),
        Action(
            "set-status",
            "Move the incident to a status (the workflow's transitions apply; resolving "
            "needs a resolution, rejecting a reason).",
            needs_incident=True,
            args={"status": Arg(required=True), "resolution": Arg(), "reason": Arg()},
        ),
        Action(
            "match-observables",
            "Match the incident's observables against the indicator index now.",
            needs_incident=True,
            outputs=("__matches__",),
        ),
        Action(
            "request-bulletin",
            "Ask for an alert bulletin draft about the incident or the check (leads told).",
            args={"title": Arg(), "reason": Arg()},
        ),
        Action(
            "poll-feed",
            "Poll a threat-intelligence feed now (by its name).",
            args={"feed": Arg(required=True)},
            outputs=("__new_indicators__",),
        ),
        Action(
            "exposure-check",
            "Match the organisation's registered domains and IP ranges against the indicator "
            "index; new hits go to one incident per organisation and day.",
            needs_organisation=True,
            args={"notify": Arg("boolean")},
            outputs=(
                "__hits__",  # how many assets are hit now
                "__new_hits__",  # how many were not reported before
                "__hit_values__",  # the values (lists)
                "__new_hit_values__",
                "__incident_reference__",
            ),
        ),
        Action(
            "contact-review",
            "Check that the organisation's contacts were confirmed within max_age_days; ask "
            "the organisation to confirm the others.",
            needs_organisation=True,
            args={"max_age_days": Arg("integer")},
            outputs=("__unconfirmed__", "__unconfirmed_contacts__"),  # a count, the e-mails
        ),
        Action(
            "deadline-reminders",
            "Remind the organisation's contacts and the assignees of the regulatory "
            "(NIS2-style) deadlines of its open incidents due within hours_before.",
            needs_organisation=True,
            args={"hours_before": Arg("integer")},
            outputs=("__reminders__", "__reminder_lines__"),  # a count, the lines
        ),
        Action(
            "sla-watch",
            "Alert the leads, in one message, to open incidents past or near an SLA due date.",
            args={"within_minutes": Arg("integer")},
            outputs=("__breaches__", "__breach_lines__"),  # a count, the lines
        ),
    )
}
