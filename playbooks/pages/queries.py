"""The read side of the playbooks pages (Flask-free): lists filtered and ordered in SQL, counts in
one grouped query, and what the detail and run pages show.

Runs on incidents follow the incidents' access rule (:func:`incidents.access.visible`): a run on
an incident the viewer may not see (``TLP:RED``, not a participant) is neither listed nor shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.identity.authz import Actor
from incidents.access import can_see, visible
from incidents.models import Incident
from playbooks.models import (
    Phase,
    Playbook,
    PlaybookRun,
    PlaybookSchedule,
    PlaybookStepRun,
    PlaybookTrigger,
    RunStatus,
    StepStatus,
)

MAX_COMMANDS_SHOWN = 3
MAX_PANEL_RUNS = 50


def playbooks(*, phase: Phase | None = None, enabled: bool | None = None) -> Select[Any]:
    """The current version of each playbook, by name (``ix_playbooks_current_phase``)."""
    query = select(Playbook).where(Playbook.current.is_(True))
    if phase is not None:
        query = query.where(Playbook.phase == phase)
    if enabled is not None:
        query = query.where(Playbook.enabled.is_(enabled))
    return query.order_by(Playbook.name, Playbook.id)


def run_counts(session: Session, cacao_ids: Iterable[str]) -> dict[str, int]:
    """Runs of every version of each playbook, in one grouped query."""
    ids = list(cacao_ids)
    if not ids:
        return {}
    query = (
        select(Playbook.cacao_id, func.count(PlaybookRun.id))
        .join(PlaybookRun, PlaybookRun.playbook_id == Playbook.id)
        .where(Playbook.cacao_id.in_(ids))
        .group_by(Playbook.cacao_id)
    )
    return {str(row[0]): int(row[1]) for row in session.execute(query)}


def versions(session: Session, cacao_id: str) -> list[Playbook]:
    query = select(Playbook).where(Playbook.cacao_id == cacao_id)
    return list(session.scalars(query.order_by(Playbook.modified.desc())))


def triggers(session: Session, cacao_id: str) -> list[PlaybookTrigger]:
    query = select(PlaybookTrigger).where(PlaybookTrigger.cacao_id == cacao_id)
    return list(session.scalars(query.order_by(PlaybookTrigger.id)))


def schedules(session: Session, cacao_id: str) -> list[PlaybookSchedule]:
    query = select(PlaybookSchedule).where(PlaybookSchedule.cacao_id == cacao_id)
    return list(session.scalars(query.order_by(PlaybookSchedule.id)))


@dataclass(frozen=True)
class StepRow:
    id: str
    type: str
    name: str
    commands: list[str]  # "manual: Isolate the hosts", "x-vigie: add-task"
    more: int  # commands not shown


def steps(document: Mapping[str, Any]) -> list[StepRow]:
    """The workflow's steps in the document's order, with a summary of their commands."""
    rows = []
    workflow = document.get("workflow")
    for sid, step in (workflow or {}).items() if isinstance(workflow, Mapping) else ():
        if not isinstance(step, Mapping):
            continue
        commands = [_command(c) for c in step.get("commands") or [] if isinstance(c, Mapping)]
        if step.get("type") == "playbook-action":
            commands = [str(step.get("playbook_id", ""))]
        rows.append(
            StepRow(
                id=str(sid),
                type=str(step.get("type", "")),
                name=str(step.get("name") or ""),
                commands=commands[:MAX_COMMANDS_SHOWN],
                more=max(0, len(commands) - MAX_COMMANDS_SHOWN),
            )
        )
    return rows


def _command(command: Mapping[str, Any]) -> str:
    kind = str(command.get("type", ""))
    if kind == "x-vigie":
        what = command.get("command")
    else:
        what = command.get("description") or command.get("command")
    text = " ".join(str(what or "").split())
    return f"{kind}: {text[:120]}" if text else kind


# ---------------------------------------------------------------- runs
def _seen(actor: Actor) -> ColumnElement[bool]:
    """Runs without an incident, or on an incident ``actor`` may see (outer join)."""
    return or_(PlaybookRun.incident_id.is_(None), visible(actor))


def runs(
    actor: Actor,
    *,
    status: RunStatus | None = None,
    cacao_id: str | None = None,
    incident_id: int | None = None,
) -> Select[Any]:
    """Runs newest first (``ix_playbook_runs_playbook``/``_incident`` for their filters)."""
    query = select(PlaybookRun).outerjoin(Incident, Incident.id == PlaybookRun.incident_id)
    query = query.where(_seen(actor))
    if status is not None:
        query = query.where(PlaybookRun.status == status)
    if cacao_id is not None:
        versions_of = select(Playbook.id).where(Playbook.cacao_id == cacao_id)
        query = query.where(PlaybookRun.playbook_id.in_(versions_of))
    if incident_id is not None:
        query = query.where(PlaybookRun.incident_id == incident_id)
    return query.order_by(PlaybookRun.id.desc())


def incidents_of(session: Session, items: Iterable[PlaybookRun]) -> dict[int, Incident]:
    ids = {run.incident_id for run in items if run.incident_id is not None}
    if not ids:
        return {}
    return {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}


def access_run(session: Session, actor: Actor, run_id: int) -> PlaybookRun:
    """The run, or ``NotFound`` — also when its incident is out of ``actor``'s sight."""
    run = session.get(PlaybookRun, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    if run.incident_id is not None:
        incident = session.get(Incident, run.incident_id)
        if incident is None or not can_see(actor, incident):
            raise NotFound(f"no run {run_id}")
    return run


def step_runs(session: Session, run: PlaybookRun) -> list[PlaybookStepRun]:
    query = select(PlaybookStepRun).where(PlaybookStepRun.run_id == run.id)
    return list(session.scalars(query.order_by(PlaybookStepRun.seq)))


def child_runs(session: Session, run: PlaybookRun) -> list[PlaybookRun]:
    query = select(PlaybookRun).where(PlaybookRun.parent_run_id == run.id)
    return list(session.scalars(query.order_by(PlaybookRun.id)))


# ---------------------------------------------------------------- the incident file panel
@dataclass(frozen=True)
class PanelRun:
    run: PlaybookRun
    waiting: list[str]  # names of the steps it waits on


def incident_runs(session: Session, incident: Incident) -> list[PanelRun]:
    """The incident's runs, newest first, with the steps they wait on (two queries)."""
    query = (
        select(PlaybookRun)
        .where(PlaybookRun.incident_id == incident.id)
        .order_by(PlaybookRun.id.desc())
        .limit(MAX_PANEL_RUNS)
    )
    found = list(session.scalars(query))
    waiting: dict[int, list[str]] = {run.id: [] for run in found}
    active = [run.id for run in found if not run.status.finished]
    if active:
        steps_query = (
            select(PlaybookStepRun)
            .where(
                PlaybookStepRun.run_id.in_(active),
                PlaybookStepRun.status == StepStatus.WAITING,
            )
            .order_by(PlaybookStepRun.run_id, PlaybookStepRun.seq)
        )
        for step in session.scalars(steps_query):
            waiting[step.run_id].append(step.name or step.step_type)
    return [PanelRun(run, waiting[run.id]) for run in found]


def startable(session: Session) -> list[Playbook]:
    """After-incident playbooks an analyst may start on an incident: current, enabled, not
    revoked."""
    query = playbooks(phase=Phase.AFTER, enabled=True).where(Playbook.revoked.is_(False))
    return list(session.scalars(query))
