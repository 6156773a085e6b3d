"""``cert mail …``: the outgoing mail queue (outbox)."""

from __future__ import annotations

import click

from cert.cli import CliContext, cli, pass_ctx
from core import mail_sender, mailers
from core.sealing import Sealer


@cli.group("mail")
def mail_group() -> None:
    """Mail: the outgoing queue (send-pending, status) and the CERT mailbox (receive,
    reprocess, list)."""


@mail_group.command("send-pending")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Most messages to send in this run.",
)
@pass_ctx
def send_pending(ctx: CliContext, batch_size: int) -> None:
    """Send the messages that are due once, then print how many were sent, retried or failed."""
    config = ctx.config
    counts = mail_sender.drain_outbox(
        ctx.session_factory,
        mailers.SmtpMailer(config.smtp),
        clock=ctx.clock,
        mail_from=config.mail_from,
        max_attempts=config.outbox_max_attempts,
        sealer=Sealer(config.secret_key),
        batch_size=batch_size,
    )
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))


@mail_group.command("status")
@click.option(
    "--failed",
    "failed_limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the latest failed messages to list.",
)
@pass_ctx
def status(ctx: CliContext, failed_limit: int) -> None:
    """Print the number of messages per status and the latest failures with their errors."""
    with ctx.unit_of_work() as uow:
        counts = mail_sender.count_by_status(uow.session)
        failed = mail_sender.list_failed(uow.session, limit=failed_limit) if failed_limit else []
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))
    for row in failed:
        click.echo(
            f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M}Z\t{row.to_addr}\t"
            f"{row.subject or row.template}\t"
            f"attempts={row.attempts}\t{row.last_error or ''}"
        )
