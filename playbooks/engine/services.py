"""Starting and cancelling runs by hand (Flask-free use cases; the adapter commits).

* :func:`start_manual_run`: CERT staff start a playbook on an incident they can see; a run
  without an incident (a before-incident playbook, for an organisation or for the CERT) is for
  leads. Audited ``playbook.run_start``.
* :func:`cancel_run`: a lead stops an unfinished run. Audited ``playbook.run_cancel``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import Clock
from core.errors import Conflict, PermissionDenied
from core.identity.authz import Actor, at_least
from core.identity.models import Organisation, Role
from incidents.access import require_work
from incidents.models import Incident
from playbooks.audit import PlaybookAction
from playbooks.engine.runs import finish_run, start_run
from playbooks.models import ACTIVE_STATUSES, Playbook, PlaybookRun, RunOrigin, RunStatus
from playbooks.settings import PlaybookSettings

OBJECT = "playbook-run"


def start_manual_run(
    session: Session,
    actor: Actor,
    playbook: Playbook,
    *,
    clock: Clock,
    settings: PlaybookSettings,
    incident: Incident | None = None,
    organisation: Organisation | None = None,
) -> PlaybookRun:
    if not actor.is_cert_staff:
        raise PermissionDenied("only CERT staff start playbooks")
    if incident is not None:  # NotFound unseen, PermissionDenied shared read-only
        require_work(actor, incident, "starting a playbook")
    if incident is None and not at_least(actor, Role.LEAD):
        raise PermissionDenied("only leads start a playbook without an incident")
    run = start_run(session, playbook, origin=RunOrigin.MANUAL, dedupe_key=f"manual:{uuid.uuid4()}",
                    actor=actor, clock=clock, settings=settings, incident=incident,
                    organisation=organisation)  # fmt: skip
    if run is None:  # a fresh random key is never taken
        raise Conflict("the run could not be started")
    after = {"playbook": playbook.cacao_id, "version": playbook.id, "incident": run.incident_id,
             "organisation": run.organisation_id}  # fmt: skip
    audit.record(session, actor, PlaybookAction.RUN_START, OBJECT, run.id, clock=clock, after=after)
    return run


def cancel_run(session: Session, actor: Actor, run: PlaybookRun, *, clock: Clock) -> PlaybookRun:
    if not (actor.is_cert_staff and at_least(actor, Role.LEAD)):
        raise PermissionDenied("only leads cancel playbook runs")
    if run.status.finished:
        raise Conflict(f"run #{run.id} is already {run.status}")
    before = {"status": str(run.status)}
    _cancel(session, run, f"cancelled by {actor.label}", clock=clock, actor=actor)
    audit.record(session, actor, PlaybookAction.RUN_CANCEL, OBJECT, run.id, clock=clock,
                 before=before, after={"status": str(run.status)})  # fmt: skip
    session.flush()
    return run


def _cancel(session: Session, run: PlaybookRun, reason: str, *, clock: Clock, actor: Actor) -> None:
    """Cancel ``run`` and the unfinished runs its playbook-action steps started."""
    finish_run(session, run, RunStatus.CANCELLED, reason, clock=clock, actor=actor)
    children = select(PlaybookRun).where(
        PlaybookRun.parent_run_id == run.id, PlaybookRun.status.in_(ACTIVE_STATUSES)
    )
    for child in session.scalars(children).all():
        _cancel(session, child, f"{reason} (parent run #{run.id})", clock=clock, actor=actor)
