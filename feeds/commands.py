"""``cert feeds …``: the feeds slice's command group (listed in :data:`feeds.slice.SLICE`)."""

from __future__ import annotations

import click

from feeds.sources.cli_import import import_command


@click.group("feeds")
def feeds() -> None:
    """Threat-intelligence feeds: import documents, poll sources."""


feeds.add_command(import_command)
