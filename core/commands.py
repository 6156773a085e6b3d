"""What every ``cert`` command uses (kit, below the slices): the lazily built :class:`CliContext`,
:data:`pass_ctx` and :func:`fail_on_domain_error`. A slice's commands import these, never the
application's :mod:`cert.cli`, which adds them to ``cert`` from the slice manifests.
"""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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
from core.identity.authz import Actor
from core.uow import UnitOfWork, unit_of_work


@dataclass
class CliContext:
    """Built lazily so that ``--help`` works without configuration or a database.

    ``settings_hooks``: the slices' settings hooks (:attr:`core.slices.Slice.settings`, set by
    the application's ``cert`` group), run when the configuration loads: a slice's bad setting
    (``CERT_SLA_POLICY``) stops every command that reads the configuration, with the one-line
    :class:`~core.config.ConfigError` that stops the web application.
    """

    clock: Clock = field(default_factory=SystemClock)
    # slice name → its manifest's settings hook (set by the application's ``cert`` group)
    settings_hooks: Mapping[str, Callable[[Config], object]] = field(default_factory=dict)

    @cached_property
    def _loaded(self) -> tuple[Config, dict[str, object]]:
        config = load_config()
        settings = {name: build(config) for name, build in self.settings_hooks.items()}
        hashing.configure(config.password_hashing, testing=config.testing)
        return config, settings

    @property
    def config(self) -> Config:
        return self._loaded[0]

    @property
    def settings(self) -> dict[str, object]:
        """Each slice's settings, built with the configuration as the web application does."""
        return self._loaded[1]

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.config.database_url)

    @cached_property
    def session_factory(self) -> SessionFactory:
        return make_session_factory(self.engine)

    @contextmanager
    def unit_of_work(
        self, actor: Actor | None = None, *, write: bool = False
    ) -> Iterator[UnitOfWork]:
        """One command's unit of work (:func:`core.uow.unit_of_work`): committed when the block
        returns, rolled back when it raises."""
        with unit_of_work(
            self.session_factory,
            clock=self.clock,
            config=self.config,
            actor=actor,
            settings=self.settings,
            write=write,
        ) as uow:
            yield uow

    def close(self) -> None:
        """Release pooled connections when the command ends."""
        if "engine" in self.__dict__:
            self.engine.dispose()


pass_ctx = click.make_pass_decorator(CliContext, ensure=True)
P = ParamSpec("P")
R = TypeVar("R")


def cli_actor() -> Actor:
    """The actor of a command typed at the shell: the system, labelled ``cli:<login>``."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Actor.system(f"cli:{login}")


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
