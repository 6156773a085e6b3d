"""``cert users mfa-reset``: remove a user's second factor from the shell (a lost phone; the only
administrator's own, which no other administrator can reset on the pages).

As on the user's page (:func:`core.auth.mfa_admin.reset_second_factor`): the secret and the
recovery codes are forgotten, every web session of the user ends and the user is e-mailed;
audited as the system actor ``cli:<login>``. An account without a second factor is left as it
is (its sessions stay open): the command says so and succeeds.
"""

from __future__ import annotations

import click

from cert.cli import CliContext, fail_on_domain_error, pass_ctx
from cert.cli.accounts import users_group
from core.auth import mfa_admin
from core.auth import services as accounts
from core.commands import cli_actor


@users_group.command("mfa-reset")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def users_mfa_reset(ctx: CliContext, email: str) -> None:
    """Reset a user's two-factor sign-in: their authenticator and recovery codes stop working,
    their web sessions end, they are e-mailed; a role that requires it enrols again at the next
    sign-in. API tokens stay valid."""
    settings = mfa_admin.NoticeSettings.of(ctx.config)
    with ctx.unit_of_work(cli_actor()) as uow:
        user = accounts.get_user_by_email(uow.session, email)
        outcome = mfa_admin.reset_second_factor(
            uow.session, uow.acting, user, settings=settings, clock=ctx.clock
        )
        if not outcome.had:
            click.echo(f"{user.email} has no two-factor sign-in: nothing to reset")
            return
        click.echo(
            f"reset the two-factor sign-in of {user.email}; ended "
            f"{outcome.sessions_ended} session(s); queued an e-mail to {user.email}"
        )
