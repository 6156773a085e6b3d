"""``cert stats``: the periodic statistics of the national report, as CSV or JSON; ``cert
reporting rebuild``: the dashboard's daily aggregate (commands of :data:`incidents.slice.SLICE`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core.auth.centres import get_centre_by_slug
from core.commands import CliContext, fail_on_domain_error, pass_ctx
from core.errors import NotFound, ValidationFailed
from core.identity.authz import Actor
from incidents import daily
from incidents.reporting.dashboard import parse_period
from incidents.reporting.stats import as_csv, as_json, statistics


@click.command("stats")
@click.option("--from", "first", required=True, help="First day, YYYY-MM-DD (local time).")
@click.option("--to", "last", required=True, help="Last day included, YYYY-MM-DD.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--centre",
    "centre_slug",
    metavar="SLUG",
    help="Only this vigilance centre's incidents (its slug, see cert centres list).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
@pass_ctx
@fail_on_domain_error
def stats(
    ctx: CliContext,
    first: str,
    last: str,
    fmt: str,
    centre_slug: str | None,
    output: Path | None,
) -> None:
    """Counts by RSIT class, sector, priority and month with MTTA and MTTR (and per centre),
    over every incident received between --from and --to (days in CERT_TIMEZONE); with
    --centre, over that centre's incidents only."""
    period = parse_period(first, last, zone=ctx.config.timezone)
    with ctx.unit_of_work() as uow:
        centre = None
        if centre_slug is not None:
            try:
                centre = get_centre_by_slug(uow.session, centre_slug)
            except NotFound:
                raise ValidationFailed(
                    "invalid centre", fields={"centre": f"unknown centre {centre_slug[:64]!r}"}
                ) from None
        figures = statistics(
            uow.session, Actor.system("cli:stats"), period, now=ctx.clock.now(), centre=centre
        )
    body = as_csv(figures) if fmt == "csv" else json.dumps(as_json(figures), indent=2) + "\n"
    if output is None:
        click.echo(body, nl=False)
    else:
        output.write_text(body, encoding="utf-8", newline="")
        click.echo(f"wrote {output}", err=True)


@click.group("reporting")
def reporting() -> None:
    """The dashboard's daily aggregate (see incidents.daily)."""


@reporting.command("rebuild")
@click.option(
    "--check",
    is_flag=True,
    help="Only compare the aggregate with the incidents; exit 1 when they differ.",
)
@pass_ctx
@fail_on_domain_error
def rebuild(ctx: CliContext, check: bool) -> None:
    """Recompute the dashboard's daily aggregate from the incidents, for CERT_TIMEZONE (after
    changing it, or after a migration that found incidents); waits for writes in flight."""
    zone = ctx.config.timezone
    with ctx.unit_of_work() as uow:
        if check:
            differing = daily.differences(uow.session, zone)
        else:
            rows = daily.rebuild(uow.session, zone)
    if check:
        click.echo(f"{differing} key(s) differ from the incidents ({zone})")
        if differing:
            raise SystemExit(1)
        return
    click.echo(f"daily aggregate rebuilt for {zone}: {rows} row(s)")
