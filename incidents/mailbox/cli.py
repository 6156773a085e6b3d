"""``cert mail receive|reprocess|list``: the CERT mailbox from the command line (the group
``mail`` of :data:`incidents.slice.SLICE`; the application merges it with its own ``cert mail``
commands of the outgoing queue).

* ``receive``: one RFC 5322 message on standard input (an MTA pipe, procmail, an LMTP delivery
  agent), stored then processed; prints ``stored <id> <status> [<reference>|<reason>]``. Exit 0
  once the message is stored, whatever became of it (held, failed: it is safe, the MTA must not
  bounce it); 75 (``EX_TEMPFAIL``) when it could not be stored (database, disk or configuration
  unavailable: the MTA retries); 65 (``EX_DATAERR``) for input that is not a message (empty).
* ``reprocess [ID…] [--failed]``: the given messages, or every ``failed`` or ``received`` one,
  processed again from their stored bytes (exit 1 when one fails again).
* ``list [--status S] [--limit N]``: the latest messages, newest first.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx
from core.config import ConfigError
from core.errors import DomainError
from incidents.mailbox.models import InboundMail, MailSource, MailStatus
from incidents.mailbox.receiving import Received, receive, reprocess
from incidents.mailbox.store import HARD_CEILING_BYTES
from incidents.settings import IntakeSettings

EX_DATAERR = 65  # sysexits.h: the input was not a message
EX_TEMPFAIL = 75  # sysexits.h: try again later (the MTA keeps the message queued)
STATUSES = click.Choice([s.value for s in MailStatus])


@click.group("mail")
def mail() -> None:
    """Mail: the CERT mailbox (receive, reprocess, list) and the outgoing queue."""


def _line(received: Received) -> str:
    extra = received.incident_reference or received.hold_reason or ""
    return f"{received.mail_id} {received.status.value} {extra}".rstrip()


@mail.command("receive")
@pass_ctx
def receive_command(ctx: CliContext) -> None:
    """Store and process one message read on standard input (for an MTA pipe)."""
    raw = sys.stdin.buffer.read(HARD_CEILING_BYTES + 1)  # beyond: refused, never all in memory
    try:
        settings = _settings(ctx)
        with ctx.unit_of_work(cli_actor()) as uow:
            received = receive(uow, raw, source=MailSource.PIPE, settings=settings)
    except DomainError as exc:  # empty input, beyond the hard ceiling: not a message to keep
        click.echo(f"not stored: {exc.message}", err=True)
        sys.exit(EX_DATAERR)
    except Exception as exc:  # database, disk or configuration: nothing kept, retry later
        click.echo(f"not stored, try again later: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(f"stored {_line(received)}")
    if received.error:
        click.echo(f"processing failed (kept for cert mail reprocess): {received.error}", err=True)


def _settings(ctx: CliContext) -> IntakeSettings:
    found = ctx.settings.get("incidents")
    if not isinstance(found, IntakeSettings):
        raise ConfigError("the incidents slice's settings are missing")
    return found


@mail.command("reprocess")
@click.argument("mail_ids", nargs=-1, type=click.IntRange(min=1), metavar="[ID]...")
@click.option("--failed", is_flag=True, help="Every failed (or interrupted) message.")
@pass_ctx
@fail_on_domain_error
def reprocess_command(ctx: CliContext, mail_ids: tuple[int, ...], failed: bool) -> None:
    """Process again stored messages that failed (after a fix): the IDs given, or --failed."""
    if bool(mail_ids) == failed:
        raise click.UsageError("give message ids or --failed (not both)")
    settings = _settings(ctx)
    with ctx.unit_of_work(cli_actor()) as uow:
        done = reprocess(uow, list(mail_ids) if mail_ids else None, settings=settings)
    for received in done:
        click.echo(f"reprocessed {_line(received)}")
        if received.error:
            click.echo(f"  {received.error}", err=True)
    if not done:
        click.echo("nothing to reprocess")
    if any(r.status is MailStatus.FAILED for r in done):
        sys.exit(1)


@mail.command("list")
@click.option("--status", type=STATUSES, help="Only the messages in this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@pass_ctx
@fail_on_domain_error
def list_command(ctx: CliContext, status: str | None, limit: int) -> None:
    """The latest messages received, newest first: id, time, status, reason, sender, subject."""
    query = select(InboundMail).order_by(InboundMail.id.desc()).limit(limit)
    if status is not None:
        query = query.where(InboundMail.status == MailStatus(status))
    with ctx.unit_of_work() as uow:
        rows = list(uow.session.scalars(query))
    for row in rows:
        reason = row.hold_reason.value if row.hold_reason else "-"
        click.echo(
            f"{row.id:>6}  {row.received_at:%Y-%m-%d %H:%M}Z  {row.status.value:<9}  "
            f"{reason:<18}  {row.from_address or '-'}  {row.subject or ''}"
        )
    if not rows:
        click.echo("no message")


__all__ = ["mail"]
