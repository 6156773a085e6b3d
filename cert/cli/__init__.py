"""The ``cert`` command line (composition root). Every command has ``--help``."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable

import click

from cert.slices_list import SLICES
from core.auth import sso_config
from core.commands import CliContext as CliContext
from core.commands import fail_on_domain_error as fail_on_domain_error
from core.commands import pass_ctx as pass_ctx
from core.config import ConfigError
from core.slices import Slice


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Vigie: incident-response coordination for a national CERT."""
    context = ctx.ensure_object(CliContext)
    # the slices' settings are built when a command loads the configuration: a bad one stops it
    context.settings_hooks = {s.name: s.settings for s in SLICES if s.settings is not None}
    context.settings_hooks["sso"] = sso_config.from_config  # CERT_OIDC_*: checked the same way
    ctx.call_on_close(context.close)


# The application's own commands: modules under cert.cli that register them on ``cli`` when
# imported. The slices' commands come from their manifests (:func:`load_commands`).
COMMAND_MODULES = (
    "db",
    "orgs",
    "accounts",
    "users_mfa",
    "centres",
    "demo",
    "serve",
    "mail",
    "events",
    "scheduler",
    "doctor",
    "backup",
)


def load_commands(slices: Iterable[Slice] = SLICES) -> click.Group:
    """Register every command on :data:`cli`: the application's, then each slice's (idempotent)."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"cert.cli.{name}")
    for slice_ in slices:
        for command in slice_.commands:
            _add(cli, command)
    return cli


def _add(group: click.Group, command: click.Command) -> None:
    """Add ``command`` to ``group``; a group of a name the application already uses (``mail``:
    the outgoing queue's commands, and the incidents slice's mailbox) gives its commands to the
    one already there, each name once (two commands of one name are a mistake)."""
    existing = group.commands.get(command.name or "")
    if existing is None or existing is command:
        group.add_command(command)
        return
    if not (isinstance(existing, click.Group) and isinstance(command, click.Group)):
        raise RuntimeError(f"two commands named {command.name!r}")
    for name, sub in command.commands.items():
        if existing.commands.get(name, sub) is not sub:
            raise RuntimeError(f"two commands named {command.name} {name!r}")
        existing.add_command(sub, name)


def main() -> None:
    load_commands()
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
