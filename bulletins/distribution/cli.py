"""``cert bulletins publish ID [--change TEXT] [--dry-run]`` (added to the group by
:mod:`bulletins.commands`): publish an approved bulletin and queue its e-mails, or — with
``--dry-run`` — print who would receive it and whom its TLP refuses, changing nothing. A refused
publication prints every refused address and why, and exits 1."""

from __future__ import annotations

import click

from bulletins.audience import audience_of
from bulletins.authoring.services import get_bulletin
from bulletins.distribution.sending import publish_and_send
from bulletins.settings import of_context
from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx


@click.command("publish")
@click.argument("bulletin_id", type=int)
@click.option("--change", help="What this revision changes (required from revision 2).")
@click.option("--dry-run", is_flag=True, help="Print the recipients and refusals; publish nothing.")
@pass_ctx
@fail_on_domain_error
def publish_command(ctx: CliContext, bulletin_id: int, change: str | None, dry_run: bool) -> None:
    """Publish approved bulletin ID and e-mail it to its lists (TLP-gated)."""
    actor = cli_actor()
    settings = of_context(ctx.settings)
    if dry_run:
        with ctx.unit_of_work() as uow:
            bulletin = get_bulletin(uow.session, actor, bulletin_id)
            audience = audience_of(uow.session, bulletin)
        for r in audience.recipients:
            click.echo(f"to {r.email}  {r.language}  {r.name}")
        for refused in audience.refused:
            click.echo(f"REFUSED {refused.recipient.email}: {refused.reason}")
        click.echo(f"{len(audience.recipients)} recipient(s), {len(audience.refused)} refused")
        if audience.refused:
            raise SystemExit(1)
        return
    with ctx.unit_of_work(actor, write=True) as uow:
        bulletin = get_bulletin(uow.session, actor, bulletin_id)
        sent = publish_and_send(uow.session, actor, bulletin, clock=ctx.clock,
                                settings=settings, change=change)  # fmt: skip
        reference, revision = bulletin.reference, sent.revision.number
    click.echo(f"published {reference} (revision {revision}): {sent.queued} e-mail(s) queued")


COMMANDS: tuple[click.Command, ...] = (publish_command,)
