"""``cert playbooks fire`` and ``cert playbooks confirm-contacts`` (command-line adapters, added
to :data:`playbooks.commands.playbooks`)."""

from __future__ import annotations

import click
from sqlalchemy import select

from core.auth import organisations as orgs
from core.commands import CliContext, fail_on_domain_error, pass_ctx
from core.errors import NotFound
from core.identity.authz import Actor
from playbooks.actions.reviews import confirm_contacts
from playbooks.automation.firing import fire_due_schedules, run_schedule_now
from playbooks.models import PlaybookSchedule
from playbooks.settings import PlaybookSettings, of_context


def _settings(ctx: CliContext) -> PlaybookSettings:
    return of_context(ctx.settings)


@click.command("fire")
@click.argument("schedule_id", type=int)
@click.option("--now", "at_once", is_flag=True,
              help="Start the runs now, whether the schedule is due or not.")  # fmt: skip
@pass_ctx
@fail_on_domain_error
def fire(ctx: CliContext, schedule_id: int, at_once: bool) -> None:
    """Start the runs of schedule SCHEDULE_ID: its due slot (as the scheduler would), or with
    --now at once for each of its organisations."""
    actor = Actor.system("cli:playbooks")
    if not at_once:
        with ctx.unit_of_work(actor) as uow:
            if uow.session.get(PlaybookSchedule, schedule_id) is None:
                raise NotFound(f"no playbook schedule {schedule_id}")
        counts = fire_due_schedules(
            ctx.session_factory, clock=ctx.clock, settings=_settings(ctx), only=schedule_id
        )
        click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
        return
    with ctx.unit_of_work(actor, write=True) as uow:
        schedule = uow.session.scalar(
            select(PlaybookSchedule).where(PlaybookSchedule.id == schedule_id)
        )
        if schedule is None:
            raise NotFound(f"no playbook schedule {schedule_id}")
        runs = run_schedule_now(uow.session, actor, schedule, clock=ctx.clock,
                                settings=_settings(ctx))  # fmt: skip
        click.echo(f"started {len(runs)} run(s): " + " ".join(f"#{r.id}" for r in runs))


@click.command("confirm-contacts")
@click.argument("org_slug")
@click.argument("emails", nargs=-1, required=True)
@pass_ctx
@fail_on_domain_error
def confirm(ctx: CliContext, org_slug: str, emails: tuple[str, ...]) -> None:
    """Record that organisation ORG_SLUG confirmed these contact EMAILS (contact review)."""
    with ctx.unit_of_work(Actor.system("cli:playbooks"), write=True) as uow:
        organisation = orgs.get_organisation_by_slug(uow.session, org_slug)
        done = confirm_contacts(uow.session, uow.acting, organisation, emails, clock=ctx.clock)
        missing = sorted({e.strip().lower() for e in emails} - set(done))
        click.echo(f"confirmed {len(done)} contact(s)")
        if missing:
            click.echo("not contacts of " + org_slug + ": " + ", ".join(missing), err=True)
