"""``cert bulletins digests run [--now ISO]``: the digests job by hand (added to the group by
:mod:`bulletins.commands`)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click

from bulletins.digests.services import Mailing, send_due_digests
from bulletins.settings import of_context
from core.clock import Clock, FrozenClock
from core.commands import CliContext, pass_ctx
from core.mail import domain_of


@click.group("digests")
def digests() -> None:
    """Scheduled digests of published bulletins (daily, weekly)."""


@digests.command("run")
@click.option("--now", "at", metavar="ISO",
              help="Act as if it were this moment (ISO 8601; without an offset: local time, "
                   "CERT_TIMEZONE), e.g. 2026-12-07T08:00.")  # fmt: skip
@pass_ctx
def run(ctx: CliContext, at: str | None) -> None:
    """Queue the digests whose period has ended and that were not queued yet (as the
    scheduler's bulletins.digests job does); print the counts."""
    settings = of_context(ctx.settings)
    clock: Clock = ctx.clock
    if at is not None:
        try:
            moment = dt.datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"{at!r} is not an ISO 8601 date and time",
                                     param_hint="--now") from None  # fmt: skip
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(settings.timezone))
        clock = FrozenClock(moment.astimezone(dt.UTC))
    config = ctx.config
    mailing = Mailing(settings, clock, config.secret_key, domain_of(config.mail_from))
    counts = send_due_digests(ctx.session_factory, mailing)
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


COMMANDS: tuple[click.Command, ...] = (digests,)
