"""``cert bulletins export`` (outputs)."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
