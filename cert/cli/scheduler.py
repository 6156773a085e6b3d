"""``cert scheduler`` (the job process) and ``cert jobs …`` (its run history)."""

from __future__ import annotations

import json
import logging

import click

from cert.cli import CliContext, cli, pass_ctx
from cert.cli.serve import _warn_if_not_migrated
from core import logs
from core.jobs import JobRun, list_job_runs


@cli.command("scheduler")
@pass_ctx
def scheduler_command(ctx: CliContext) -> None:
    """Run the scheduler process: recurring jobs such as the mail outbox drain.

    Run it as its own long-lived process (never inside web workers). Several may run at once,
    e.g. one per host: they elect a leader and only the leader runs jobs. On PostgreSQL the
    leader holds a session-level advisory lock (CERT_SCHEDULER_LOCK_KEY) on a dedicated
    connection; on SQLite it holds a lock file next to the database, so only processes on the
    same host can share it. The others wait on standby, retry the lock every
    CERT_SCHEDULER_POLL_SECONDS and take over when the leader dies. A job slot never runs twice
    (see `cert jobs list`). SIGTERM or Ctrl-C stops cleanly and releases the lock.
    """
    from cert.scheduler import run_scheduler

    config = ctx.config
    _warn_if_not_migrated(ctx)
    logs.configure(config.log_format, config.log_level)  # JSON lines with CERT_LOG_FORMAT=json
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    ctx.close()  # the scheduler builds its own engine; keep no idle pool around
    run_scheduler(config)


@cli.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs: the history of their runs."""


@jobs_group.command("list")
@click.option("--job", "job_id", default=None, help="Only this job (e.g. mail.drain_outbox).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many of the latest runs to print.",
)
@pass_ctx
def list_runs(ctx: CliContext, job_id: str | None, limit: int) -> None:
    """Print the latest runs, newest first: job, slot, status, duration, counts, error."""
    with ctx.unit_of_work() as uow:
        runs = list_job_runs(uow.session, job_id=job_id, limit=limit)
    if not runs:
        click.echo("no job runs")
    for run in runs:
        click.echo(_describe(run))


def _describe(run: JobRun) -> str:
    duration = "-" if run.duration is None else f"{run.duration.total_seconds():.3f}s"
    counts = json.dumps(run.counts, sort_keys=True) if run.counts is not None else "-"
    error = (run.error or "").strip().splitlines()[0] if run.error else ""
    return (
        f"{run.job_id}\t{run.scheduled_for:%Y-%m-%d %H:%M:%S}Z\t{run.status}\t"
        f"{duration}\t{counts}\t{error}"
    ).rstrip("\t")
