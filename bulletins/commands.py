"""``cert bulletins`` and ``cert lists``: the slice's command groups (listed in
:data:`bulletins.slice.SLICE`). The sub-commands live with their feature and are added here."""

from __future__ import annotations

import click

from bulletins.authoring import cli as authoring_cli
from bulletins.csaf import cli as csaf_cli
from bulletins.digests import cli as digests_cli
from bulletins.distribution import cli as distribution_cli
from bulletins.distribution.lists_cli import lists
from bulletins.outputs import cli as outputs_cli


@click.group("bulletins")
def bulletins() -> None:
    """Alert bulletins: write, review, publish, export, import vendors' CSAF advisories."""


for _command in (
    *authoring_cli.COMMANDS,
    *outputs_cli.COMMANDS,
    *csaf_cli.COMMANDS,
    *distribution_cli.COMMANDS,
    *digests_cli.COMMANDS,
):
    bulletins.add_command(_command)

GROUPS: tuple[click.Command, ...] = (bulletins, lists)
