"""``cert db …``: schema migrations."""

from __future__ import annotations

import click

from cert import schema
from cert.cli import CliContext, cli, pass_ctx


@cli.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_ctx
def upgrade(ctx: CliContext, revision: str) -> None:
    """Create or migrate the database schema to REVISION."""
    url = ctx.config.database_url
    if url.startswith("sqlite:///"):
        ctx.config.instance_dir.mkdir(parents=True, exist_ok=True)
    schema.upgrade(ctx.engine, revision)
    click.echo(f"database at revision {schema.current_revision(ctx.engine)}")


@db_group.command("current")
@pass_ctx
def current(ctx: CliContext) -> None:
    """Print the database's current revision and the code's head revision."""
    click.echo(f"current: {schema.current_revision(ctx.engine)}  head: {schema.head_revision()}")
