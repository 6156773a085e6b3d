"""The ``manual`` command (Flask-free executor): its text becomes a task on the run's incident,
and the step waits until the task is done (:func:`playbooks.engine.handlers.resume_on_task`).

The text is ``command`` (or ``command_b64``) with the step's variables substituted as plain
text; the task goes to the incident's assignee when that is active CERT staff, and is due after
the step's ``timeout`` when it has one (the step then fails with ACTION_TIMEOUT if the task is
still open). A run without an incident cannot have tasks: the step fails, saying so.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy.orm import Session

from incidents.workspace.tasks import MAX_TITLE, add_task
from playbooks.engine.context import ms
from playbooks.engine.registry import CommandCall, CommandOutcome, register
from playbooks.rules.substitution import UnknownVariable, plain, substitute


def command_text(call: CommandCall) -> str:
    """The command's text: ``command``, else ``command_b64`` decoded (UTF-8)."""
    text = call.command.get("command")
    if isinstance(text, str) and text.strip():
        return text
    encoded = call.command.get("command_b64")
    if isinstance(encoded, str) and encoded.strip():
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError("command_b64 is not base64 of UTF-8 text") from None
    return ""


def run_manual(session: Session, call: CommandCall) -> CommandOutcome:
    incident = call.incident
    if incident is None:
        return CommandOutcome(
            ok=False,
            error="a manual command becomes a task on the run's incident: this run has none",
        )
    try:
        title = plain(substitute(command_text(call), call.variables, escape=plain)).strip()
    except (UnknownVariable, ValueError) as exc:
        return CommandOutcome(ok=False, error=f"manual command: {exc}")
    title = (title or str(call.step.get("name") or "") or "Playbook step")[:MAX_TITLE]
    assignee = incident.assignee
    if assignee is not None and not (assignee.is_cert_staff and assignee.is_active):
        assignee = None
    timeout = ms(call.step.get("timeout"))
    due_at = call.clock.now() + timeout if timeout else None
    task = add_task(session, call.actor, incident, title, clock=call.clock, assignee=assignee,
                    due_at=due_at)  # fmt: skip
    return CommandOutcome(result=f"task #{task.id} created", wait_for_task=task.id)


register("manual", run_manual)
