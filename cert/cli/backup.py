"""``cert backup`` / ``cert restore``: the database and the uploaded files in one archive."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from cert import schema
from cert.backup import BackupError
from cert.backup.dump import backup as make_backup
from cert.backup.restore import restore as run_restore
from cert.backup.tables import LEFT_OUT
from cert.cli import CliContext, cli, pass_ctx
from cert.slices_list import SLICES
from core.db import Base

# every table of the schema: the kernel's models (imported by cert.schema) and each slice's
# (imported by its manifest), all declared in Base.metadata
MODEL_MODULES = (*schema.KERNEL_MODELS, *(m for s in SLICES for m in s.models))


def _fail(exc: Exception) -> None:
    """One line on standard error, exit 1: the operator's message, never a traceback (a file
    system or database failure outside the archive's checks is named as such)."""
    if isinstance(exc, BackupError):
        message = str(exc)
    elif isinstance(exc, OSError):
        message = f"{exc.filename or 'file system'}: {exc.strerror or exc}"
    else:
        orig = getattr(exc, "orig", None)
        message = "database: " + (str(orig) if orig is not None else str(exc)).splitlines()[0]
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, unit = float(n) / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


@cli.command("backup")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (.tar.gz).",
)
@click.option("--force", is_flag=True, help="Replace --output if it exists.")
@pass_ctx
def backup(ctx: CliContext, output: Path, force: bool) -> None:
    """Write the database and the uploaded files into one archive (consistent while Vigie runs).

    The secret key is NOT in the archive: keep CERT_SECRET_KEY (or instance/secret_key) apart;
    a restore needs it to open the two-factor secrets."""
    try:
        summary = make_backup(ctx.engine, Base.metadata, ctx.config.upload_dir, output, force=force)
    except (BackupError, OSError, SQLAlchemyError) as exc:
        _fail(exc)
        return
    rows = sum(summary.rows.values())
    click.echo(f"backup {summary.path}: revision {summary.revision}, from {summary.backend}")
    for table, count in summary.rows.items():
        if count:
            click.echo(f"  {table:<40} {count:>10} rows")
    click.echo(
        f"{rows} rows in {len(summary.rows)} tables, {summary.files} files "
        f"({_size(summary.file_bytes)}); archive {_size(summary.size)}"
    )
    click.echo("not in the archive: " + "; ".join(f"{k} ({v})" for k, v in LEFT_OUT.items()))
    click.echo(
        "not in the archive: the secret key (CERT_SECRET_KEY / instance/secret_key): keep it apart"
    )


@cli.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Empty a database that holds data, then restore.")
@click.option(
    "--allow-key-change",
    is_flag=True,
    help="Restore although the archive's sealed values do not open with this secret key.",
)
@pass_ctx
def restore(ctx: CliContext, archive: Path, force: bool, allow_key_change: bool) -> None:
    """Bring a Vigie back from an archive of `cert backup` into an empty database.

    The archive is verified whole (checksums, member names) before anything is written; the
    rows are written in one transaction; files go to CERT_UPLOAD_DIR."""
    try:
        summary = run_restore(
            ctx.engine,
            Base.metadata,
            ctx.config.upload_dir,
            archive,
            secret_key=ctx.config.secret_key,
            force=force,
            allow_key_change=allow_key_change,
        )
    except (BackupError, OSError, SQLAlchemyError) as exc:
        _fail(exc)
        return
    click.echo(
        f"restored {archive} (made {summary.created_at} on {summary.source_backend}) at revision "
        f"{summary.revision}"
    )
    for table, count in summary.rows.items():
        if count:
            click.echo(f"  {table:<40} {count:>10} rows")
    click.echo(
        f"{sum(summary.rows.values())} rows, {summary.files} files "
        f"({_size(summary.file_bytes)}) into {ctx.config.upload_dir}"
    )
    if summary.sealed_checked:
        click.echo(f"secret key: checked against {summary.sealed_checked} sealed value(s)")
    if summary.not_analysed:
        click.echo(
            "planner statistics not refreshed (autovacuum will): " + ", ".join(summary.not_analysed)
        )
    if summary.revision != schema.head_revision():
        click.echo("the archive is older than this Vigie: run `cert db upgrade` now")
