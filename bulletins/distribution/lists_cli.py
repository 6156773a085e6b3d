"""``cert lists``: distribution lists from the command line (acting as ``cli:<login>``, audited
as the pages are). Every refusal is one line naming its field, exit status 1, nothing written.

* ``create --slug S --name N --kind organisation|sector|all|centre|named [--organisation SLUG]
  [--sector X] [--centre SLUG] [--digest none|daily|weekly] [--language fr|en|ar]``;
* ``list [--json]``, ``show SLUG`` (members and resolved recipients), ``delete SLUG``;
* ``add-member SLUG --email E [--name N] [--language L] [--organisation SLUG]``,
  ``remove-member SLUG --email E``.
"""

from __future__ import annotations

import json

import click

from bulletins.audience import LANGUAGES, resolve
from bulletins.distribution import services as svc
from bulletins.models import DigestFrequency, ListKind
from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx


@click.group("lists")
def lists() -> None:
    """Distribution lists of bulletins: per organisation, sector, all administrations, vigilance
    centre, named."""


@lists.command("create")
@click.option("--slug", required=True, help="Identifier: lower-case letters, digits, dashes.")
@click.option("--name", required=True, help="The list's name.")
@click.option("--kind", required=True, type=click.Choice([k.value for k in ListKind]))
@click.option("--organisation", help="Slug of the organisation (kind organisation).")
@click.option("--sector", help="Sector of the constituents (kind sector).")
@click.option("--centre", help="Slug of the vigilance centre (kind centre).")
@click.option("--digest", default="none", show_default=True,
              type=click.Choice([d.value for d in DigestFrequency]))  # fmt: skip
@click.option("--language", default="fr", show_default=True, type=click.Choice(LANGUAGES),
              help="Language of recipients who have none.")  # fmt: skip
@pass_ctx
@fail_on_domain_error
def create(ctx: CliContext, slug: str, name: str, kind: str, organisation: str | None,
           sector: str | None, centre: str | None, digest: str,
           language: str) -> None:  # fmt: skip
    """Create a distribution list."""
    actor = cli_actor()
    with ctx.unit_of_work(actor, write=True) as uow:
        dlist = svc.create_list(uow.session, actor, slug=slug, name=name, kind=kind,
                                organisation=organisation, sector=sector, centre=centre,
                                digest=digest,
                                language=language, clock=ctx.clock)  # fmt: skip
        click.echo(f"created {dlist.slug} ({dlist.kind.value})")


@lists.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@pass_ctx
@fail_on_domain_error
def list_command(ctx: CliContext, as_json: bool) -> None:
    """Every distribution list, with its number of members."""
    with ctx.unit_of_work() as uow:
        listed = svc.list_lists(uow.session)
        centres = svc.centre_slugs(uow.session, (r.list.centre_id for r in listed))
        rows = [{"slug": r.list.slug, "name": r.list.name, "kind": r.list.kind.value,
                 "organisation_id": r.list.organisation_id, "sector": r.list.sector,
                 "centre": centres.get(r.list.centre_id or 0),
                 "digest": r.list.digest.value, "language": r.list.language,
                 "members": r.members} for r in listed]  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        where = row["sector"] or row["organisation_id"] or row["centre"] or ""
        click.echo(f"{row['slug']:<24} {row['kind']:<13} {row['digest']:<7} "
                   f"{row['members']:>4} members  {where}  {row['name']}")  # fmt: skip


@lists.command("show")
@click.argument("slug")
@pass_ctx
@fail_on_domain_error
def show(ctx: CliContext, slug: str) -> None:
    """A list, its members and the recipients it resolves to."""
    with ctx.unit_of_work() as uow:
        dlist = svc.get_list(uow.session, slug)
        click.echo(f"{dlist.slug}: {dlist.name} ({dlist.kind.value}, digest "
                   f"{dlist.digest.value}, language {dlist.language})")  # fmt: skip
        click.echo(f"members ({len(dlist.members)}):")
        for m in dlist.members:
            click.echo(f"  {m.email}  {m.name}  {m.language or '-'}")
        recipients = resolve(uow.session, [dlist])
        click.echo(f"recipients ({len(recipients)}):")
        for r in recipients:
            click.echo(f"  {r.email}  {r.language}")


@lists.command("delete")
@click.argument("slug")
@pass_ctx
@fail_on_domain_error
def delete(ctx: CliContext, slug: str) -> None:
    """Delete a distribution list and its members."""
    actor = cli_actor()
    with ctx.unit_of_work(actor, write=True) as uow:
        svc.delete_list(uow.session, actor, svc.get_list(uow.session, slug), clock=ctx.clock)
    click.echo(f"deleted {slug}")


@lists.command("add-member")
@click.argument("slug")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--language", type=click.Choice(LANGUAGES), help="Default: the list's.")
@click.option("--organisation", help="Slug of the person's organisation (named lists).")
@pass_ctx
@fail_on_domain_error
def add_member(ctx: CliContext, slug: str, email: str, name: str, language: str | None,
               organisation: str | None) -> None:  # fmt: skip
    """Add a named individual (named list) or an extra address (organisation list)."""
    actor = cli_actor()
    with ctx.unit_of_work(actor, write=True) as uow:
        dlist = svc.get_list(uow.session, slug)
        member = svc.add_member(uow.session, actor, dlist, email=email, name=name,
                                language=language, organisation=organisation,
                                clock=ctx.clock)  # fmt: skip
        click.echo(f"added {member.email} to {slug}")


@lists.command("remove-member")
@click.argument("slug")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def remove_member(ctx: CliContext, slug: str, email: str) -> None:
    """Remove an address from a list."""
    actor = cli_actor()
    with ctx.unit_of_work(actor, write=True) as uow:
        svc.remove_member(uow.session, actor, svc.get_list(uow.session, slug), email,
                          clock=ctx.clock)  # fmt: skip
    click.echo(f"removed {email} from {slug}")
