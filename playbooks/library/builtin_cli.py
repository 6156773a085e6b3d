"""``cert playbooks load-builtin``: the built-in playbook library into the database (a command of
the ``cert playbooks`` group, :mod:`playbooks.commands`)."""

from __future__ import annotations

import click

from core.commands import CliContext, fail_on_domain_error, pass_ctx
from core.identity.authz import Actor
from playbooks.library import builtin
from playbooks.library.builtin_load import load_builtin


@click.command("load-builtin")
@click.option(
    "--language",
    type=click.Choice(builtin.LANGUAGES),
    default=builtin.DEFAULT_LANGUAGE,
    show_default=True,
    help="Language of the playbooks' names, descriptions and task titles.",
)
@pass_ctx
@fail_on_domain_error
def load_builtin_command(ctx: CliContext, language: str) -> None:
    """Import the built-in CACAO playbooks (ransomware, phishing, defacement, DDoS, compromised
    account, data leak, vulnerable service; exposure check, contact review, deadline reminders,
    SLA watch) with their default triggers and schedules. Idempotent: loading again changes
    nothing; a newer built-in version becomes the current one."""
    with ctx.unit_of_work() as uow:
        loaded = load_builtin(
            uow.session,
            Actor.system("cli:load-builtin"),
            clock=ctx.clock,
            language=language,
            timezone=ctx.config.timezone,
        )
    for item in loaded:
        click.echo(item.line())
