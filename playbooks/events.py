"""The playbooks slice's durable domain events (Flask-free).

``playbook.run_finished`` is recorded in the transaction that ends a run (completed, failed,
cancelled); ``playbook.bulletin_requested`` by the ``request-bulletin`` command — the bulletins
slice (below this one) subscribes to it once it exists, and until then the leads are told by
the command itself. Payloads carry ids only.
"""

from __future__ import annotations

from core.events import EventName, Payload, register_events

AGGREGATE = "playbook-run"


class PlaybookEventName(EventName):
    RUN_FINISHED = "playbook.run_finished"
    BULLETIN_REQUESTED = "playbook.bulletin_requested"


class RunFinished(Payload):
    run_id: int
    playbook_id: int
    incident_id: int | None
    status: str


class BulletinRequested(Payload):
    run_id: int
    incident_id: int | None
    organisation_id: int | None


register_events(
    {
        PlaybookEventName.RUN_FINISHED: RunFinished,
        PlaybookEventName.BULLETIN_REQUESTED: BulletinRequested,
    }
)
