"""``cert playbooks``: CACAO playbooks from the command line (the slice's command group, listed
in :data:`playbooks.slice.SLICE`). The sub-commands live with their feature (library, engine,
automation) and are added here."""

from __future__ import annotations

import click

from playbooks.automation import cli as automation_cli
from playbooks.automation import firing_cli
from playbooks.engine import cli as engine_cli
from playbooks.library.builtin_cli import load_builtin_command
from playbooks.library.cli import COMMANDS as LIBRARY


@click.group("playbooks")
def playbooks() -> None:
    """OASIS CACAO 2.0 playbooks: import, export, list, run."""


playbooks.add_command(firing_cli.fire)
playbooks.add_command(firing_cli.confirm)
for _command in (*LIBRARY, *engine_cli.COMMANDS, *automation_cli.COMMANDS):
    playbooks.add_command(_command)
playbooks.add_command(load_builtin_command)
