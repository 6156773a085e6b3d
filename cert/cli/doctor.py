"""``cert doctor``: what is wrong with this installation, in plain words (:mod:`cert.doctor`)."""

from __future__ import annotations

import json
import sys

import click

from cert.cli import cli
from cert.doctor import Level, examine


@cli.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for machines.")
def doctor(as_json: bool) -> None:
    """Check the configuration, database, migrations, scheduler, mail, storage and services.

    One line per check: ok, warning (works, but look) or problem (and what to do). Exit status
    1 when any problem was found, 0 otherwise (warnings alone: 0). Nothing is written, no mail
    is sent.
    """
    findings = examine()
    healthy = not any(f.level is Level.PROBLEM for f in findings)
    if as_json:
        document = {"ok": healthy, "checks": [f.as_dict() for f in findings]}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            click.echo(finding.line())
        problems = sum(f.level is Level.PROBLEM for f in findings)
        warnings = sum(f.level is Level.WARNING for f in findings)
        click.echo(f"{problems} problem(s), {warnings} warning(s)")
    sys.exit(0 if healthy else 1)
