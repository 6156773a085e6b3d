"""``cert centres …``: vigilance centres from the shell — their constituency, members, standing
duty and rota. Every change is made as the system actor ``cli:<login>`` and lands in the audit
log (:mod:`core.auth.centre_admin`, :mod:`core.auth.centre_members`). Times of the rota are
typed and shown in the centre's own time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import click
from sqlalchemy.orm import Session

from cert.cli import CliContext, cli, fail_on_domain_error, pass_ctx
from core.auth import centre_admin, centre_members
from core.auth import centres as read
from core.auth import services as accounts
from core.auth.centre_overlaps import Overlap, overlaps
from core.commands import cli_actor
from core.identity.centres import DEFAULT_TIMEZONE, DEFAULT_WORKING_HOURS, Centre
from incidents.rules.taxonomy import rsit_classes

MOMENT = click.DateTime(formats=["%Y-%m-%d %H:%M"])


def known_categories() -> set[str]:
    """The RSIT class ids a centre may specialise in (the incidents slice's taxonomy)."""
    return set(rsit_classes())


def parse_hours(days: str | None, hours: str | None, current: dict[str, Any]) -> dict[str, Any]:
    """Working hours from ``--days 0,1,2,3,4`` and ``--hours 08:30-16:30`` over ``current``
    (a bad shape is a usage error; the service checks the values)."""
    result = dict(current)
    if days is not None:
        try:
            result["days"] = [int(d) for d in days.split(",") if d.strip()]
        except ValueError:
            raise click.BadParameter(
                "days are numbers 0 (Monday) to 6", param_hint="--days"
            ) from None
    if hours is not None:
        start, dash, end = hours.partition("-")
        if not dash:
            raise click.BadParameter("HH:MM-HH:MM, e.g. 08:30-16:30", param_hint="--hours")
        result["start"], result["end"] = start.strip(), end.strip()
    return result


def constituency(centre: Centre, organisations: Sequence[str]) -> str:
    """A centre's constituency on one line."""
    if centre.is_national:
        return "every constituent"
    parts = [
        f"{label}: {', '.join(values)}"
        for label, values in (
            ("organisations", organisations),
            ("sectors", centre.sectors or ()),
            ("regions", centre.regions or ()),
            ("classes", centre.categories or ()),
        )
        if values
    ]
    return "; ".join(parts) or "-"


def warn_overlaps(session: Session, slug: str | None = None) -> None:
    """On stderr, the centres the routing rule cannot decide between (those of ``slug`` only
    when given)."""
    found: Sequence[Overlap] = overlaps(session)
    for o in found:
        if slug is not None and slug not in (o.first, o.second):
            continue
        classes = f" (classes {', '.join(o.categories)})" if o.categories else ""
        click.echo(
            f"warning: {o.first} and {o.second} are equally specific for {o.kind} {o.value}"
            f"{classes}; {o.first} wins",
            err=True,
        )


def _local(centre: Centre, moment: dt.datetime) -> str:
    return f"{centre_members.utc_to_local(centre, moment):%Y-%m-%d %H:%M}"


@cli.group("centres")
def centres_group() -> None:
    """Vigilance centres: constituency, members, on-duty rota (the national centre has every
    constituent)."""


def _centre_options(fn: Any) -> Any:
    for option in reversed(
        [
            click.option("--name-ar", help="Arabic name."),
            click.option(
                "--sector", "sectors", multiple=True, help="A sector it answers for (repeatable)."
            ),
            click.option(
                "--organisation",
                "organisations",
                multiple=True,
                help="An organisation slug it answers for (repeatable).",
            ),
            click.option(
                "--region", "regions", multiple=True, help="A region it answers for (repeatable)."
            ),
            click.option(
                "--category",
                "categories",
                multiple=True,
                help="An RSIT class id it specialises in (repeatable), e.g. fraud.",
            ),
            click.option("--contact", help="Contact e-mail address of the centre."),
            click.option("--timezone", help="IANA time zone, e.g. Africa/Casablanca."),
            click.option("--days", help="Working days, 0 (Monday) to 6, e.g. 0,1,2,3,4."),
            click.option("--hours", help="Working hours, e.g. 08:30-16:30."),
        ]
    ):
        fn = option(fn)
    return fn


@centres_group.command("create")
@click.option("--slug", required=True, help="Identifier: lower-case letters, digits, dashes.")
@click.option("--name", required=True, help="Official (French) name.")
@_centre_options
@pass_ctx
@fail_on_domain_error
def centres_create(
    ctx: CliContext,
    slug: str,
    name: str,
    name_ar: str | None,
    sectors: tuple[str, ...],
    organisations: tuple[str, ...],
    regions: tuple[str, ...],
    categories: tuple[str, ...],
    contact: str | None,
    timezone: str | None,
    days: str | None,
    hours: str | None,
) -> None:
    """Create a centre with its constituency."""
    working = parse_hours(days, hours, dict(DEFAULT_WORKING_HOURS))
    with ctx.unit_of_work(cli_actor()) as uow:
        centre = centre_admin.create_centre(
            uow.session,
            uow.acting,
            slug=slug,
            name=name,
            name_ar=name_ar,
            sectors=sectors,
            organisations=organisations,
            regions=regions,
            categories=categories,
            contact_email=contact,
            timezone=timezone or DEFAULT_TIMEZONE,
            working_hours=working,
            known_categories=known_categories(),
            clock=ctx.clock,
        )
        uow.session.flush()
        click.echo(f"created centre {centre.slug} (id {centre.id})")
        warn_overlaps(uow.session, centre.slug)


@centres_group.command("update")
@click.option("--slug", required=True, help="The centre to change (its slug never changes).")
@click.option("--name", help="Official (French) name.")
@_centre_options
@pass_ctx
@fail_on_domain_error
def centres_update(
    ctx: CliContext,
    slug: str,
    name: str | None,
    name_ar: str | None,
    sectors: tuple[str, ...],
    organisations: tuple[str, ...],
    regions: tuple[str, ...],
    categories: tuple[str, ...],
    contact: str | None,
    timezone: str | None,
    days: str | None,
    hours: str | None,
) -> None:
    """Change a centre: what is given replaces what it had (a repeatable option given replaces
    the whole list; give it once empty, e.g. --sector '', to empty it)."""
    with ctx.unit_of_work(cli_actor()) as uow:
        centre = read.get_centre_by_slug(uow.session, slug)
        named = centre_admin.organisation_slugs(uow.session, centre)
        changed = centre_admin.update_centre(
            uow.session,
            uow.acting,
            centre,
            name=centre.name if name is None else name,
            name_ar=centre.name_ar if name_ar is None else name_ar,
            sectors=sectors or centre.sectors,
            organisations=organisations or named,
            regions=regions or centre.regions,
            categories=categories or centre.categories,
            contact_email=centre.contact_email if contact is None else contact,
            timezone=timezone or centre.timezone,
            working_hours=parse_hours(days, hours, dict(centre.working_hours or {})),
            known_categories=known_categories(),
            clock=ctx.clock,
        )
        click.echo(f"changed centre {centre.slug}" if changed else "nothing to change")
        warn_overlaps(uow.session, centre.slug)


@centres_group.command("list")
@pass_ctx
def centres_list(ctx: CliContext) -> None:
    """Every centre: slug, names, constituency, members, who is on duty now."""
    with ctx.unit_of_work() as uow:
        centres = read.list_centres(uow.session)
        board = centre_members.board(uow.session, centres, ctx.clock.now())
        for c in centres:
            names = c.name + (f" / {c.name_ar}" if c.name_ar else "")
            duty = ", ".join(u.email for u in board.on_duty[c.id]) or "nobody"
            click.echo(
                f"{c.slug:20} {names}\n{'':20} {constituency(c, board.organisations[c.id])}\n"
                f"{'':20} {board.members[c.id]} member(s); on duty now: {duty}"
            )
        warn_overlaps(uow.session)


@centres_group.command("show")
@click.option("--slug", required=True)
@pass_ctx
@fail_on_domain_error
def centres_show(ctx: CliContext, slug: str) -> None:
    """A centre: description, members, who is on duty now, the shifts of the next 7 days."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        centre = read.get_centre_by_slug(uow.session, slug)
        board = centre_members.board(uow.session, [centre], now)
        hours = centre.working_hours or {}
        click.echo(
            f"{centre.slug}: {centre.name}" + (f" / {centre.name_ar}" if centre.name_ar else "")
        )
        click.echo(f"constituency: {constituency(centre, board.organisations[centre.id])}")
        click.echo(f"contact: {centre.contact_email or '-'}; time zone: {centre.timezone}")
        click.echo(
            f"working hours: days {','.join(str(d) for d in hours.get('days', []))} "
            f"{hours.get('start', '?')}-{hours.get('end', '?')}"
        )
        click.echo("members:")
        for m in read.members_of(uow.session, centre):
            flags = ("standing duty " if m.on_duty else "") + (
                "" if m.user.is_active else "inactive"
            )
            click.echo(f"  {m.user.email:36} {m.user.role:8} {flags}".rstrip())
        duty = ", ".join(u.email for u in board.on_duty[centre.id]) or "nobody"
        click.echo(f"on duty now: {duty}")
        click.echo(f"next shifts ({centre.timezone}):")
        _print_shifts(uow.session, centre, now, now + dt.timedelta(days=7))


def _print_shifts(session: Session, centre: Centre, since: dt.datetime, until: dt.datetime) -> None:
    shifts = centre_members.upcoming_shifts(session, centre, since=since, until=until)
    for s in shifts:
        note = f"  {s.note}" if s.note else ""
        click.echo(
            f"  {s.id:5} {_local(centre, s.starts_at)} → {_local(centre, s.ends_at)}  "
            f"{s.user.email}{note}"
        )
    if not shifts:
        click.echo("  none")


def _member(ctx: CliContext, centre_slug: str, email: str, change: str, **extra: Any) -> None:
    with ctx.unit_of_work(cli_actor()) as uow:
        centre = read.get_centre_by_slug(uow.session, centre_slug)
        user = accounts.get_user_by_email(uow.session, email)
        if change == "add":
            centre_members.add_member(
                uow.session, uow.acting, centre, user, on_duty=extra["on_duty"], clock=ctx.clock
            )
            duty = " (on duty)" if extra["on_duty"] else ""
            click.echo(f"{user.email} is a member of {centre.slug}{duty}")
        elif change == "remove":
            dropped = centre_members.remove_member(
                uow.session, uow.acting, centre, user, clock=ctx.clock
            )
            click.echo(f"{user.email} left {centre.slug} ({dropped} shift(s) to come removed)")
        else:
            on = extra["on_duty"]
            changed = centre_members.set_on_duty(
                uow.session, uow.acting, centre, user, on, clock=ctx.clock
            )
            state = "on duty" if on else "off duty"
            click.echo(
                f"{user.email} is {state} for {centre.slug}" + ("" if changed else " already")
            )


@centres_group.command("add-member")
@click.option("--centre", "centre_slug", required=True, help="The centre's slug.")
@click.option("--email", required=True, help="An analyst, coordinator or administrator.")
@click.option("--on-duty", is_flag=True, help="On standing duty (when no shift covers now).")
@pass_ctx
@fail_on_domain_error
def centres_add_member(ctx: CliContext, centre_slug: str, email: str, on_duty: bool) -> None:
    """Make a CERT user a member of a centre."""
    _member(ctx, centre_slug, email, "add", on_duty=on_duty)


@centres_group.command("remove-member")
@click.option("--centre", "centre_slug", required=True, help="The centre's slug.")
@click.option("--email", required=True)
@pass_ctx
@fail_on_domain_error
def centres_remove_member(ctx: CliContext, centre_slug: str, email: str) -> None:
    """Take a member out of a centre (their shifts to come leave the rota)."""
    _member(ctx, centre_slug, email, "remove")


@centres_group.command("duty")
@click.option("--centre", "centre_slug", required=True, help="The centre's slug.")
@click.option("--email", required=True)
@click.option("--on/--off", "on_duty", required=True, help="On standing duty, or not.")
@pass_ctx
@fail_on_domain_error
def centres_duty(ctx: CliContext, centre_slug: str, email: str, on_duty: bool) -> None:
    """Put a member on standing duty, or off it (when no shift of the rota covers a moment,
    the members on standing duty are on duty)."""
    _member(ctx, centre_slug, email, "duty", on_duty=on_duty)


@centres_group.group("rota")
def rota_group() -> None:
    """A centre's on-duty rota (times in the centre's time zone)."""


@rota_group.command("add")
@click.option("--centre", "centre_slug", required=True, help="The centre's slug.")
@click.option("--email", required=True, help="A member of the centre.")
@click.option("--from", "starts", required=True, type=MOMENT, help='"YYYY-MM-DD HH:MM", local.')
@click.option("--to", "ends", required=True, type=MOMENT, help='"YYYY-MM-DD HH:MM", local.')
@click.option("--note", help="Free text, e.g. night shift.")
@pass_ctx
@fail_on_domain_error
def rota_add(
    ctx: CliContext,
    centre_slug: str,
    email: str,
    starts: dt.datetime,
    ends: dt.datetime,
    note: str | None,
) -> None:
    """Put a member on duty from --from to --to (the centre's local time)."""
    with ctx.unit_of_work(cli_actor()) as uow:
        centre = read.get_centre_by_slug(uow.session, centre_slug)
        user = accounts.get_user_by_email(uow.session, email)
        shift = centre_members.add_shift(
            uow.session,
            uow.acting,
            centre,
            user,
            starts_at=centre_members.local_to_utc(centre, starts),
            ends_at=centre_members.local_to_utc(centre, ends),
            note=note,
            clock=ctx.clock,
        )
        click.echo(
            f"shift {shift.id}: {user.email} on duty for {centre.slug} from "
            f"{_local(centre, shift.starts_at)} to {_local(centre, shift.ends_at)} "
            f"({centre.timezone})"
        )


@rota_group.command("list")
@click.option("--centre", "centre_slug", required=True, help="The centre's slug.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366))
@pass_ctx
@fail_on_domain_error
def rota_list(ctx: CliContext, centre_slug: str, days: int) -> None:
    """The shifts not over yet that start within --days (the centre's local time)."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        centre = read.get_centre_by_slug(uow.session, centre_slug)
        click.echo(f"{centre.slug} ({centre.timezone}):")
        _print_shifts(uow.session, centre, now, now + dt.timedelta(days=days))


@rota_group.command("remove")
@click.option("--id", "shift_id", required=True, type=int, help="The shift (from rota list).")
@pass_ctx
@fail_on_domain_error
def rota_remove(ctx: CliContext, shift_id: int) -> None:
    """Take a shift off its centre's rota."""
    with ctx.unit_of_work(cli_actor()) as uow:
        shift = centre_members.get_shift(uow.session, shift_id)
        centre = read.get_centre(uow.session, shift.centre_id)
        centre_members.remove_shift(uow.session, uow.acting, shift, clock=ctx.clock)
        click.echo(f"removed shift {shift_id} of {centre.slug}")
