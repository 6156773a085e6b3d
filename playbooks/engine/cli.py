"""``cert playbooks run`` and ``cert playbooks runs`` (adapter): start a run by hand, list runs.

``run ID`` starts the playbook (its database id, or its CACAO id: the current version) on an
incident (``--incident``), for an organisation (``--organisation``) or on its own; ``--now``
advances it at once (and the runs it starts) and prints its steps; otherwise the scheduler's
``playbooks.advance`` job does. Commands act as ``cli:<login>``, trusted like a lead.
"""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx
from core.errors import NotFound
from core.identity.models import Organisation
from incidents.intake.service import get_incident
from incidents.models import Incident
from playbooks.engine.runner import advance_run
from playbooks.engine.services import start_manual_run
from playbooks.models import Playbook, PlaybookRun, PlaybookStepRun, RunStatus
from playbooks.settings import PlaybookSettings, of_context

ROUNDS = 20  # --now: advance the run and the runs it started this many times at most


def _settings(ctx: CliContext) -> PlaybookSettings:
    return of_context(ctx.settings)


def _playbook(session: Any, ident: str) -> Playbook:
    query = select(Playbook)
    if ident.isdigit():
        found = session.scalar(query.where(Playbook.id == int(ident)))
    else:
        found = session.scalar(query.where(Playbook.cacao_id == ident, Playbook.current.is_(True)))
    if found is None:
        raise NotFound(f"no playbook {ident}")
    return found  # type: ignore[no-any-return]


@click.command("run")
@click.argument("ident", metavar="ID")
@click.option("--incident", "reference", help="The incident's reference.")
@click.option("--organisation", "slug", help="The organisation's slug (runs without incident).")
@click.option("--now", is_flag=True, help="Advance the run at once and print its steps.")
@pass_ctx
@fail_on_domain_error
def run_command(ctx: CliContext, ident: str, reference: str | None, slug: str | None,
                now: bool) -> None:  # fmt: skip
    """Start playbook ID (its number, or its CACAO id) by hand."""
    actor, settings = cli_actor(), _settings(ctx)
    with ctx.unit_of_work(actor, write=True) as uow:
        playbook = _playbook(uow.session, ident)
        incident = get_incident(uow.session, actor, reference) if reference else None
        organisation = None
        if slug:
            organisation = uow.session.scalar(select(Organisation).where(Organisation.slug == slug))
            if organisation is None:
                raise NotFound(f"no organisation {slug}")
        run = start_manual_run(uow.session, actor, playbook, clock=ctx.clock, settings=settings,
                               incident=incident, organisation=organisation)  # fmt: skip
        run_id = run.id
    click.echo(f"run #{run_id} started ({playbook.name})")
    if not now:
        return
    for _ in range(ROUNDS):
        with ctx.unit_of_work() as uow:
            ids = [run_id, *uow.session.scalars(
                select(PlaybookRun.id).where(PlaybookRun.parent_run_id == run_id,
                                             PlaybookRun.status.in_((RunStatus.PENDING,
                                                                     RunStatus.RUNNING)))
            )]  # fmt: skip
        statuses = [advance_run(ctx.session_factory, i, clock=ctx.clock, settings=settings)
                    for i in ids]  # fmt: skip
        if statuses[0] != RunStatus.RUNNING and len(ids) == 1:
            break
    with ctx.unit_of_work() as uow:
        shown = uow.session.get_one(PlaybookRun, run_id)
        click.echo(f"run #{run_id}: {shown.status}" + (f" — {shown.error}" if shown.error else ""))
        for step in uow.session.scalars(
            select(PlaybookStepRun).where(PlaybookStepRun.run_id == run_id)
            .order_by(PlaybookStepRun.seq)
        ):  # fmt: skip
            name = step.name or step.step_id
            line = f"  {step.seq:>3} {step.step_type:<16} {step.status:<11} {name}"
            detail = step.error or step.result
            click.echo(line + (f" — {detail}" if detail else ""))


def run_out(run: PlaybookRun, reference: str | None) -> dict[str, Any]:
    return {
        "id": run.id, "playbook_id": run.playbook_id, "playbook": run.playbook.name,
        "cacao_id": run.playbook.cacao_id, "incident": reference, "origin": str(run.origin),
        "status": str(run.status), "steps_done": run.steps_done,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
    }  # fmt: skip


@click.command("runs")
@click.option("--incident", "reference", help="Only the runs on this incident.")
@click.option("--status", type=click.Choice([s.value for s in RunStatus]))
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@fail_on_domain_error
def runs_command(ctx: CliContext, reference: str | None, status: str | None, limit: int,
                 as_json: bool) -> None:  # fmt: skip
    """The latest playbook runs, newest first."""
    with ctx.unit_of_work(cli_actor()) as uow:
        query = (
            select(PlaybookRun, Incident.reference)
            .outerjoin(Incident, Incident.id == PlaybookRun.incident_id)
            .order_by(PlaybookRun.id.desc())
            .limit(limit)
        )
        if reference:
            query = query.where(PlaybookRun.incident_id == get_incident(
                uow.session, uow.acting, reference).id)  # fmt: skip
        if status:
            query = query.where(PlaybookRun.status == RunStatus(status))
        shown = [run_out(run, ref) for run, ref in uow.session.execute(query).all()]
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    if not shown:
        click.echo("no runs")
    for r in shown:
        click.echo(f"#{r['id']} {r['started_at'][:19]} {r['status']:<9} {r['steps_done']:>4} steps "
                   f"{r['playbook']}" + (f" on {r['incident']}" if r["incident"] else "")
                   + (f"  error: {r['error']}" if r["error"] else ""))  # fmt: skip


COMMANDS = (run_command, runs_command)
