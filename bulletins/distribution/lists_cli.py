"""``cert lists``: distribution lists from the command line."""

from __future__ import annotations

import click


@click.group("lists")
def lists() -> None:
    """Distribution lists of bulletins: per organisation, sector, all administrations, named."""
