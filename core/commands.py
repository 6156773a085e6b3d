"""What every ``cert`` command uses (kit, below the slices): the lazily built :class:`CliContext`,
:data:`pass_ctx` and :func:`fail_on_domain_error`. A slice's commands import these, never the
application's :mod:`cert.cli`, which adds them to ``cert`` from the slice manifests.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import ParamSpec, TypeVar

import click
from sqlalchemy import Engine

from core.auth import hashing
from core.clock import Clock, SystemClock
from core.config import Config, load_config
from core.db import SessionFactory, make_engine, make_session_factory
from core.errors import DomainError


@dataclass
class CliContext:
    """Built lazily so that ``--help`` works without configuration or a database.

    ``settings_hooks``: the slices' settings hooks (:attr:`core.slices.Slice.settings`, set by
    the application's ``cert`` group), run when the configuration loads: a slice's bad setting
    (``CERT_SLA_POLICY``) stops every command that reads the configuration, with the one-line
    :class:`~core.config.ConfigError` that stops the web application.
    """

    clock: Clock = field(default_factory=SystemClock)
    settings_hooks: tuple[Callable[[Config], object], ...] = ()

    @cached_property
    def config(self) -> Config:
        config = load_config()
        for build in self.settings_hooks:
            build(config)
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
