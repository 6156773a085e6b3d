"""``cert playbooks``: CACAO playbooks from the command line (the slice's command group, listed
in :data:`playbooks.slice.SLICE`). The sub-commands live with their feature (library, engine,
automation) and are added here."""

from __future__ import annotations

import click

from playbooks.library.builtin_cli import load_builtin_command


@click.group("playbooks")
def playbooks() -> None:
    """OASIS CACAO 2.0 playbooks: import, export, list, run."""


playbooks.add_command(load_builtin_command)
