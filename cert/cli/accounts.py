"""``cert users …``, ``cert tokens …``, ``cert audit``: accounts from the shell.

Every change is made as the system actor ``cli:<login>`` and lands in the audit log.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from cert.cli import CliContext, cli, fail_on_domain_error, pass_ctx
from core import audit
from core.auth import centres, resets, sso
from core.auth import organisations as orgs
from core.auth import services as accounts
from core.auth import tokens as api_tokens
from core.commands import cli_actor
from core.identity.models import ApiToken, Role, User


# ------------------------------------------------------------------ users
@cli.group("users")
def users_group() -> None:
    """User accounts (roles: reporter, analyst, lead, admin)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True, help="Full name.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--org", "slug", required=True, help="Organisation slug.")
@click.option("--locale", type=click.Choice(accounts.LOCALES), default="fr", show_default=True)
@click.option(
    "--centre", "centre_slug", help="CERT roles: the centre they join (default: the national one)."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--send-link",
    is_flag=True,
    help="No password: e-mail the user a link to choose one (CERT_PASSWORD_RESET_HOURS).",
)
@pass_ctx
@fail_on_domain_error
def users_create(
    ctx: CliContext,
    email: str,
    name: str,
    role: str,
    slug: str,
    locale: str,
    centre_slug: str | None,
    password_stdin: bool,
    send_link: bool,
) -> None:
    """Create a user (the password is prompted for, read with --password-stdin, or chosen by
    the user through the link of --send-link)."""
    if send_link and password_stdin:
        raise click.UsageError("give at most one of --password-stdin and --send-link")
    if centre_slug and role == Role.REPORTER:
        raise click.UsageError("--centre is for analysts, leads and admins: reporters are in none")
    password = None if send_link else _read_password(password_stdin)
    with ctx.unit_of_work(cli_actor()) as uow:
        org = orgs.get_organisation_by_slug(uow.session, slug)
        centre = centres.get_centre_by_slug(uow.session, centre_slug) if centre_slug else None
        user = accounts.create_user(
            uow.session,
            uow.acting,
            email=email,
            name=name,
            role=role,
            organisation=org,
            password=password,
            locale=locale,
            clock=ctx.clock,
            centre=centre,
        )
        if send_link:
            resets.send_link(
                uow.session, uow.acting, user, settings=_link_settings(ctx), clock=ctx.clock
            )
        click.echo(f"created {user.role} {user.email} in {org.slug} (id {user.id})")


@users_group.command("list")
@click.option("--org", "slug", help="Only this organisation's users.")
@pass_ctx
@fail_on_domain_error
def users_list(ctx: CliContext, slug: str | None) -> None:
    """List users."""
    with ctx.unit_of_work() as uow:
        query = select(User).order_by(User.organisation_id, User.email)
        if slug:
            query = query.where(
                User.organisation_id == orgs.get_organisation_by_slug(uow.session, slug).id
            )
        for user in uow.session.scalars(query):
            state = "active" if user.is_active else "inactive"
            click.echo(f"{user.email:36} {user.role:9} {user.organisation.slug:20} {state}")


@users_group.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
@fail_on_domain_error
def users_set_password(ctx: CliContext, email: str, password_stdin: bool) -> None:
    """Set a user's password; their open web sessions end."""
    password = _read_password(password_stdin)
    with ctx.unit_of_work(cli_actor()) as uow:
        user = accounts.get_user_by_email(uow.session, email)
        accounts.set_password(uow.session, uow.acting, user, password, clock=ctx.clock)
        click.echo(f"password changed for {user.email}")


@users_group.command("send-link")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def users_send_link(ctx: CliContext, email: str) -> None:
    """E-mail a user a link to set their password (single use, CERT_PASSWORD_RESET_HOURS); the
    current password keeps working until the link is used."""
    with ctx.unit_of_work(cli_actor()) as uow:
        user = accounts.get_user_by_email(uow.session, email)
        link = resets.send_link(
            uow.session, uow.acting, user, settings=_link_settings(ctx), clock=ctx.clock
        )
        click.echo(
            f"queued a link for {user.email}, valid until {link.expires_at:%Y-%m-%d %H:%M} UTC"
        )


@users_group.command("sso-unlink")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def users_sso_unlink(ctx: CliContext, email: str) -> None:
    """Remove a user's link to the identity provider (single sign-on): their next sign-in there
    links again by verified e-mail address; their Vigie password works again."""
    with ctx.unit_of_work(cli_actor()) as uow:
        user = accounts.get_user_by_email(uow.session, email)
        done = sso.unlink(uow.session, uow.acting, user, clock=ctx.clock)
        click.echo(f"{user.email} {'unlinked' if done else 'was not linked'}")


def _link_settings(ctx: CliContext) -> resets.LinkSettings:
    return resets.LinkSettings.of(ctx.config)


@users_group.command("end-sessions")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def users_end_sessions(ctx: CliContext, email: str) -> None:
    """End every open web session of a user (their API tokens stay valid)."""
    with ctx.unit_of_work(cli_actor()) as uow:
        user = accounts.get_user_by_email(uow.session, email)
        ended = accounts.end_all_sessions(uow.session, uow.acting, user, clock=ctx.clock)
        click.echo(f"ended {ended} session(s) of {user.email}")


def _set_active(ctx: CliContext, email: str, active: bool) -> None:
    with ctx.unit_of_work(cli_actor()) as uow:
        user = accounts.get_user_by_email(uow.session, email)
        accounts.set_active(uow.session, uow.acting, user, active, clock=ctx.clock)
        click.echo(f"{'activated' if active else 'deactivated'} {user.email}")


@users_group.command("deactivate")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def users_deactivate(ctx: CliContext, email: str) -> None:
    """Deactivate a user: no login, no API access, open sessions end."""
    _set_active(ctx, email, False)


@users_group.command("activate")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def users_activate(ctx: CliContext, email: str) -> None:
    """Re-activate a user."""
    _set_active(ctx, email, True)


# ------------------------------------------------------------------ tokens
@cli.group("tokens")
def tokens_group() -> None:
    """API tokens (``Authorization: Bearer <token>``), stored hashed."""


@tokens_group.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--label", default="api", show_default=True, help="What the token is for.")
@click.option(
    "--scope",
    type=click.Choice([scope.value for scope in api_tokens.TokenScope]),
    default=api_tokens.TokenScope.WRITE.value,
    show_default=True,
    help="read: GET/HEAD/OPTIONS only; write: whatever the user may (integrations that submit).",
)
@pass_ctx
@fail_on_domain_error
def tokens_create(ctx: CliContext, email: str, label: str, scope: str) -> None:
    """Create a token; it is printed once, alone on the last line, and never stored.

    The default scope stays ``write`` (the server's operator sets up integrations that submit
    reports, as before scopes existed); give ``--scope read`` for a script that only reads."""
    with ctx.unit_of_work(cli_actor()) as uow:
        user = accounts.get_user_by_email(uow.session, email)
        token, secret = api_tokens.create_token(
            uow.session, uow.acting, user, label=label, scope=scope, clock=ctx.clock
        )
        click.echo(
            f"token {token.id} ({token.prefix}…) for {user.email}, label {token.label!r}, "
            f"scope {token.scope}; copy it now, it will not be shown again:"
        )
    click.echo(secret)


@tokens_group.command("list")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def tokens_list(ctx: CliContext, email: str) -> None:
    """List a user's tokens (prefix, label, scope, last use, revocation)."""
    with ctx.unit_of_work() as uow:
        user = accounts.get_user_by_email(uow.session, email)
        for token in api_tokens.list_tokens(uow.session, user):
            used = (
                token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
            )
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            click.echo(
                f"{token.id:5} {token.prefix}…  {token.label:20} {token.scope:5}  "
                f"last used {used}  {state}"
            )


@tokens_group.command("revoke")
@click.option("--id", "token_id", type=int, help="Token id (from `cert tokens list`).")
@click.option("--prefix", help="The token's first characters, as shown by `cert tokens list`.")
@pass_ctx
@fail_on_domain_error
def tokens_revoke(ctx: CliContext, token_id: int | None, prefix: str | None) -> None:
    """Revoke a token; it stops working at once."""
    if (token_id is None) == (prefix is None):
        raise click.UsageError("give exactly one of --id and --prefix")
    with ctx.unit_of_work(cli_actor()) as uow:
        query = select(ApiToken).where(
            ApiToken.id == token_id if token_id is not None else ApiToken.prefix == prefix
        )
        tokens = list(uow.session.scalars(query))
        if len(tokens) != 1:
            raise click.ClickException("no such token" if not tokens else "prefix is ambiguous")
        api_tokens.revoke_token(uow.session, uow.acting, tokens[0], clock=ctx.clock)
        click.echo(f"revoked token {tokens[0].id} ({tokens[0].prefix}…)")


# ------------------------------------------------------------------ audit
@cli.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--action", help="Only this action, e.g. user.create.")
@click.option("--object-type", help="Only this kind of object, e.g. user, incident.")
@click.option("--object-id", help="Only this object.")
@pass_ctx
def audit_command(
    ctx: CliContext, limit: int, action: str | None, object_type: str | None, object_id: str | None
) -> None:
    """Print the audit log, newest first."""
    with ctx.unit_of_work() as uow:
        entries = audit.list_entries(
            uow.session, limit=limit, action=action, object_type=object_type, object_id=object_id
        )
        for e in entries:
            change = f" {e.before} -> {e.after}" if e.before else (f" {e.after}" if e.after else "")
            click.echo(
                f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor_label:28} {e.action:24} "
                f"{e.object_type}:{e.object_id}{change}{' from ' + e.ip if e.ip else ''}"
            )
