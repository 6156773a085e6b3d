"""``cert bulletins`` commands of this feature, added to the group by :mod:`bulletins.commands`."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
