"""``cert bulletins list|new|submit|approve|send-back|revise``: writing bulletins from the
command line (added to the group by :mod:`bulletins.commands`). Commands act as the system
(``cli:<login>``), except ``approve``, which acts as the lead named by ``--as`` (four eyes: a
lead who neither wrote nor submitted the bulletin).

* ``list [--status S] [--kind K] [--limit N] [--offset N] [--json]``;
* ``new --kind K --title T [--tlp TLP] [--from-incident REF …] [--cve CVE …] [--json]``: a draft
  from scratch, from incidents (their indicators that the TLP allows) and/or CVE ids, titled T;
* ``submit ID``, ``approve ID --as EMAIL``, ``send-back ID --reason R``, ``revise ID``.
"""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.authoring import queries, services, sources
from bulletins.models import Bulletin, BulletinKind, BulletinStatus
from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx
from core.errors import PermissionDenied
from core.identity.authz import Actor, at_least
from core.identity.models import Role, User
from core.markings import Tlp

KINDS = click.Choice([k.value for k in BulletinKind])
STATUSES = click.Choice([s.value for s in BulletinStatus])


def _out(bulletin: Bulletin) -> dict[str, Any]:
    text = bulletin.text("fr")
    return {
        "id": bulletin.id, "reference": bulletin.reference, "status": bulletin.status.value,
        "kind": bulletin.kind.value, "tlp": bulletin.tlp, "risk": bulletin.risk.value,
        "title": text.title if text is not None else "", "cves": list(bulletin.cves),
        "indicators": len(bulletin.indicators), "revision": bulletin.revision,
        "source": bulletin.source.value,
    }  # fmt: skip


def _echo(as_json: bool, data: Any, line: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else line)


@click.command("list")
@click.option("--status", type=STATUSES, help="Only the bulletins in this status.")
@click.option("--kind", type=KINDS, help="Only this kind.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0, None), default=0)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@pass_ctx
@fail_on_domain_error
def list_command(ctx: CliContext, status: str | None, kind: str | None, limit: int, offset: int,
                 as_json: bool) -> None:  # fmt: skip
    """List bulletins, newest first (drafts included)."""
    query = queries.staff_list(
        status=BulletinStatus(status) if status else None, kind=BulletinKind(kind) if kind else None
    )
    with ctx.unit_of_work(cli_actor()) as uow:
        total = uow.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        )
        rows = [_out(b) for b in uow.session.scalars(query.limit(limit).offset(offset))]
    if as_json:
        _echo(True, {"total": total, "offset": offset, "bulletins": rows}, "")
        return
    for row in rows:
        click.echo(
            f"{row['id']:>6}  {row['status']:<9}  {row['kind']:<8}  {row['tlp']:<16}  "
            f"{row['reference'] or '-':<22}  {row['title']}"
        )
    if not rows:
        click.echo("no bulletin")


@click.command("new")
@click.option("--kind", type=KINDS, required=True, help="advisory, alert, note or digest.")
@click.option("--title", required=True, help="The French title.")
@click.option("--tlp", default=None, help="TLP label (default: CLEAR, or AMBER from incidents).")
@click.option(
    "--from-incident",
    "incidents",
    multiple=True,
    metavar="REF",
    help="An incident to draft from (repeat for several).",
)
@click.option("--cve", "cves", multiple=True, metavar="CVE", help="A CVE id (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Print the draft as JSON.")
@pass_ctx
@fail_on_domain_error
def new_command(ctx: CliContext, kind: str, title: str, tlp: str | None, incidents: tuple[str, ...],
                cves: tuple[str, ...], as_json: bool) -> None:  # fmt: skip
    """Write a draft bulletin titled TITLE, from scratch, incidents and/or CVE ids."""
    actor = cli_actor()
    with ctx.unit_of_work(actor, write=True) as uow:
        session = uow.session
        if incidents:
            bulletin = sources.draft_from_incidents(
                session,
                actor,
                list(incidents),
                kind=kind,
                tlp=tlp or str(Tlp.AMBER),
                clock=ctx.clock,
            )
        elif cves:
            bulletin = sources.draft_from_cves(
                session, actor, list(cves), kind=kind, clock=ctx.clock, tlp=tlp or str(Tlp.CLEAR)
            )
        else:
            data = {"kind": kind, "tlp": tlp or str(Tlp.CLEAR), "texts": {"fr": {"title": title}}}
            bulletin = services.create_draft(
                session, actor, sources.parse_draft(data), clock=ctx.clock
            )
        if incidents or cves:
            _retitle(session, actor, bulletin, title, cves, ctx)
        out = _out(bulletin)
    _echo(as_json, out, f"draft {out['id']} written: {out['title']}")


def _retitle(session: Session, actor: Actor, bulletin: Bulletin, title: str,
             cves: tuple[str, ...], ctx: CliContext) -> None:  # fmt: skip
    organisations, lists = queries.audience_of(session, bulletin)
    data = sources.data_of(bulletin, organisations, lists)
    data["texts"]["fr"]["title"] = title
    if cves:
        ids = sources.parse_cves(cves)
        data["cves"] = list(dict.fromkeys([*data["cves"], *ids]))
        links = [sources.CVE_RECORD.format(c) for c in ids]
        data["links"] = list(dict.fromkeys([*data["links"], *links]))
    services.update_draft(session, actor, bulletin, sources.parse_draft(data), clock=ctx.clock)


def _load(session: Session, actor: Actor, bulletin_id: int) -> Bulletin:
    bulletin = services.get_bulletin(session, actor, bulletin_id)
    session.refresh(bulletin)
    return bulletin


def _transition(ctx: CliContext, actor: Actor, bulletin_id: int, verb: str, **kw: Any) -> None:
    with ctx.unit_of_work(actor, write=True) as uow:
        bulletin = _load(uow.session, actor, bulletin_id)
        step = getattr(services, verb)
        step(uow.session, actor, bulletin, **kw, clock=ctx.clock)
        status = bulletin.status.value
    click.echo(f"bulletin {bulletin_id}: {status}")


@click.command("submit")
@click.argument("bulletin_id", type=int)
@pass_ctx
@fail_on_domain_error
def submit_command(ctx: CliContext, bulletin_id: int) -> None:
    """Submit draft BULLETIN_ID for review."""
    _transition(ctx, cli_actor(), bulletin_id, "submit")


@click.command("approve")
@click.argument("bulletin_id", type=int)
@click.option(
    "--as",
    "email",
    required=True,
    metavar="EMAIL",
    help="The approving lead (neither the author nor the submitter).",
)
@pass_ctx
@fail_on_domain_error
def approve_command(ctx: CliContext, bulletin_id: int, email: str) -> None:
    """Approve BULLETIN_ID (in review) as the lead EMAIL."""
    with ctx.unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.is_active:
            raise click.ClickException(f"no active account {email}")
        actor = Actor.for_user(user)
    if not at_least(actor, Role.LEAD):
        raise PermissionDenied(f"{email} is not a lead: approving bulletins needs the lead role")
    _transition(ctx, actor, bulletin_id, "approve")


@click.command("send-back")
@click.argument("bulletin_id", type=int)
@click.option("--reason", required=True, help="What to change.")
@pass_ctx
@fail_on_domain_error
def send_back_command(ctx: CliContext, bulletin_id: int, reason: str) -> None:
    """Send BULLETIN_ID (in review or approved) back to draft with a reason."""
    _transition(ctx, cli_actor(), bulletin_id, "send_back", reason=reason)


@click.command("revise")
@click.argument("bulletin_id", type=int)
@pass_ctx
@fail_on_domain_error
def revise_command(ctx: CliContext, bulletin_id: int) -> None:
    """Reopen published BULLETIN_ID as a draft for its next revision."""
    _transition(ctx, cli_actor(), bulletin_id, "revise")


COMMANDS: tuple[click.Command, ...] = (
    list_command,
    new_command,
    submit_command,
    approve_command,
    send_back_command,
    revise_command,
)
