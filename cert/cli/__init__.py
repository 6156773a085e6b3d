"""The ``cert`` command line (composition root). Every command has ``--help``."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property

import click
from sqlalchemy import Engine

from cert.clock import Clock, SystemClock
from cert.config import Config, ConfigError, load_config
from cert.db import SessionFactory, make_engine, make_session_factory


@dataclass
class CliContext:
    """Built lazily so that ``--help`` works without configuration or a database."""

    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def config(self) -> Config:
        return load_config()

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.config.database_url)

    @cached_property
    def session_factory(self) -> SessionFactory:
        return make_session_factory(self.engine)


pass_ctx = click.make_pass_decorator(CliContext, ensure=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Vigie: incident-response coordination for a national CERT."""
    ctx.ensure_object(CliContext)


def main() -> None:
    from cert.cli import db  # noqa: F401  (registers commands)

    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
