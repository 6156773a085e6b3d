"""``cert playbooks``: CACAO playbooks from the command line (the slice's command group, listed
in :data:`playbooks.slice.SLICE`). The sub-commands live with their feature (library, engine,
automation) and are added here."""

from __future__ import annotations

import click

from playbooks.engine import cli as engine_cli


@click.group("playbooks")
def playbooks() -> None:
    """OASIS CACAO 2.0 playbooks: import, export, list, run."""


for _command in engine_cli.COMMANDS:
    playbooks.add_command(_command)
