"""The ``cert`` command line (composition root). Every command has ``--help``."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import ParamSpec, TypeVar

import click
from sqlalchemy import Engine

from cert.auth import hashing
from cert.clock import Clock, SystemClock
from cert.config import Config, ConfigError, load_config
from cert.db import SessionFactory, make_engine, make_session_factory
from cert.errors import DomainError


@dataclass
class CliContext:
    """Built lazily so that ``--help`` works without configuration or a database."""

    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def config(self) -> Config:
        config = load_config()
        hashing.configure(config.password_hashing, testing=config.testing)
        return config

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.config.database_url)

    @cached_property
    def session_factory(self) -> SessionFactory:
        return make_session_factory(self.engine)

    def close(self) -> None:
        """Release pooled connections when the command ends."""
        if "engine" in self.__dict__:
            self.engine.dispose()


pass_ctx = click.make_pass_decorator(CliContext, ensure=True)
P = ParamSpec("P")
R = TypeVar("R")


def fail_on_domain_error(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a DomainError into a one-line message and exit status 1 (nothing is written)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            message = exc.message + (f" ({details})" if details else "")
            raise click.ClickException(message) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Vigie: incident-response coordination for a national CERT."""
    ctx.call_on_close(ctx.ensure_object(CliContext).close)


# Modules under cert.cli that register commands on ``cli`` when imported.
COMMAND_MODULES = (
    "db",
    "accounts",
    "demo",
    "serve",
    "mail",
    "events",
    "scheduler",
    "stats",
)


def main() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"cert.cli.{name}")
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
