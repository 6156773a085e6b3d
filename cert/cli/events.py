"""``cert events …``: durable domain events and their deliveries to handlers."""

from __future__ import annotations

import datetime as dt

import click

from cert import event_handlers
from cert.cli import CliContext, cli, pass_ctx
from core import events
from core.events import DeliveryStatus


@cli.group("events")
def events_group() -> None:
    """Domain events: deliver them to their handlers, inspect pending and failed deliveries,
    purge the delivered ones."""


@events_group.command("list")
@click.option(
    "--status",
    type=click.Choice([status.value for status in DeliveryStatus]),
    default=None,
    help="Only the deliveries in this status (default: every status).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=10_000),
    default=50,
    show_default=True,
    help="Most deliveries to list, newest first.",
)
@pass_ctx
def list_events(ctx: CliContext, status: str | None, limit: int) -> None:
    """Print the number of deliveries per status (and of events not yet dispatched), then the
    latest deliveries: event, handler, status, attempts, next attempt and last error."""
    wanted = DeliveryStatus(status) if status else None
    with ctx.unit_of_work() as uow:
        counts = events.count_by_status(uow.session)
        rows = events.list_deliveries(uow.session, status=wanted, limit=limit)
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))
    for delivery, event in rows:
        when = (
            f"delivered {delivery.delivered_at:%Y-%m-%d %H:%M:%S}Z"
            if delivery.delivered_at
            else f"next {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}Z"
        )
        click.echo(
            f"{delivery.id}\tevent {event.id}\t{event.occurred_at:%Y-%m-%d %H:%M:%S}Z\t"
            f"{event.name}\t{event.aggregate_type}:{event.aggregate_id}\t{delivery.handler}\t"
            f"{delivery.status}\tattempts={delivery.attempts}\t{when}\t"
            f"{delivery.last_error or ''}"
        )


@events_group.command("deliver")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=10_000),
    default=100,
    show_default=True,
    help="Most new events to dispatch and deliveries to run in this run.",
)
@pass_ctx
def deliver(ctx: CliContext, batch_size: int) -> None:
    """Deliver the due events once (as the scheduler's events.deliver job does), then print
    how many deliveries were created, done, left for a retry or given up."""
    counts = events.deliver_events(
        ctx.session_factory,
        event_handlers.HANDLERS,
        clock=ctx.clock,
        batch_size=batch_size,
        max_attempts=ctx.config.events_max_attempts,
        settings=ctx.settings,
    )
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))


@events_group.command("purge")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=0, max=3650),
    default=None,
    help="Retention in days (default: CERT_EVENTS_RETENTION_DAYS).",
)
@pass_ctx
def purge(ctx: CliContext, older_than_days: int | None) -> None:
    """Delete the events older than the retention that every handler has (each delivery done,
    or no handler), with their deliveries, as the scheduler's events.purge job does; events
    with a pending or failed delivery stay. Print how many events and deliveries went."""
    days = ctx.config.events_retention_days if older_than_days is None else older_than_days
    cutoff = ctx.clock.now() - dt.timedelta(days=days)
    counts = events.purge_events(ctx.session_factory, older_than=cutoff)
    click.echo("  ".join(f"{name}: {count}" for name, count in counts.items()))
