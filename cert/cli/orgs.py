"""``cert orgs …``: organisations (constituents and the CERT) and their assets from the shell.

Every change is made as the system actor ``cli:<login>`` and lands in the audit log.
"""

from __future__ import annotations

import click

from cert.cli import CliContext, cli, fail_on_domain_error, pass_ctx
from core.auth import organisations as orgs
from core.commands import cli_actor
from core.identity.models import AssetKind, OrganisationKind


# ------------------------------------------------------------------ orgs
@cli.group("orgs")
def orgs_group() -> None:
    """Organisations: the CERT and its constituents (ministries, agencies, establishments)."""


@orgs_group.command("create")
@click.option("--slug", required=True, help="Short identifier, e.g. min-interieur.")
@click.option("--name", required=True, help="Official (French) name.")
@click.option("--name-ar", help="Arabic name.")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in OrganisationKind]),
    default="ministry",
    show_default=True,
)
@click.option("--sector", help="Sector, e.g. government, health, finance, energy.")
@click.option("--region", help="Region, e.g. casablanca-settat (centres may answer for one).")
@click.option(
    "--contact-email", "contact_emails", multiple=True, help="Contact address (repeatable)."
)
@click.option("--phone", help="Telephone number of the organisation's security contact.")
@pass_ctx
@fail_on_domain_error
def orgs_create(
    ctx: CliContext,
    slug: str,
    name: str,
    name_ar: str | None,
    kind: str,
    sector: str | None,
    region: str | None,
    contact_emails: tuple[str, ...],
    phone: str | None,
) -> None:
    """Create an organisation."""
    with ctx.unit_of_work(cli_actor()) as uow:
        org = orgs.create_organisation(
            uow.session,
            uow.acting,
            slug=slug,
            name=name,
            name_ar=name_ar,
            kind=kind,
            sector=sector,
            region=region,
            contact_emails=contact_emails,
            phone=phone,
            clock=ctx.clock,
        )
        click.echo(f"created organisation {org.slug} (id {org.id})")


@orgs_group.command("set-region")
@click.option("--org", "slug", required=True, help="Organisation slug.")
@click.option("--region", required=True, help="Region, e.g. casablanca-settat; '' for none.")
@pass_ctx
@fail_on_domain_error
def orgs_set_region(ctx: CliContext, slug: str, region: str) -> None:
    """Set (or clear) the region of an organisation (centres may answer for a region)."""
    with ctx.unit_of_work(cli_actor()) as uow:
        org = orgs.get_organisation_by_slug(uow.session, slug)
        changed = orgs.update_organisation(
            uow.session,
            uow.acting,
            org,
            name=org.name,
            name_ar=org.name_ar,
            kind=org.kind,
            sector=org.sector,
            contact_emails=org.contact_emails or [],
            phone=org.phone,
            region=region,
            clock=ctx.clock,
        )
        where = org.region or "no region"
        click.echo(f"{org.slug}: {where}" + ("" if changed else " (unchanged)"))


@orgs_group.command("list")
@pass_ctx
def orgs_list(ctx: CliContext) -> None:
    """List organisations with their kind, sector, region and registered assets."""
    with ctx.unit_of_work() as uow:
        for org in orgs.list_organisations(uow.session):
            assets = ", ".join(a.value for a in org.assets) or "-"
            click.echo(
                f"{org.slug:24} {org.kind:13} {org.sector or '-':14} {org.region or '-':18} "
                f"{org.name}  [{assets}]"
            )


@orgs_group.command("add-asset")
@click.option("--org", "slug", required=True, help="Organisation slug.")
@click.option("--domain", help="A domain name the organisation owns.")
@click.option("--ip-range", help="An IP address or CIDR range the organisation owns.")
@click.option("--note", help="Free text, e.g. 'mail gateway'.")
@pass_ctx
@fail_on_domain_error
def orgs_add_asset(
    ctx: CliContext, slug: str, domain: str | None, ip_range: str | None, note: str | None
) -> None:
    """Register a domain or an IP range to an organisation (used for exposure checks)."""
    if bool(domain) == bool(ip_range):
        raise click.UsageError("give exactly one of --domain and --ip-range")
    kind, value = (AssetKind.DOMAIN, domain) if domain else (AssetKind.IP_RANGE, ip_range)
    with ctx.unit_of_work(cli_actor()) as uow:
        org = orgs.get_organisation_by_slug(uow.session, slug)
        asset = orgs.add_asset(
            uow.session, uow.acting, org, kind=kind, value=value or "", note=note, clock=ctx.clock
        )
        click.echo(f"registered {asset.kind} {asset.value} to {org.slug}")


# ------------------------------------------------------------------ users
