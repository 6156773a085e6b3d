"""``cert playbooks triggers|trigger-add|trigger-set|trigger-remove`` and
``schedules|schedule-add|schedule-set|schedule-remove``: triggers and schedules from the command
line, through :mod:`playbooks.automation.services` (audited as ``cli:<login>``, with the rules
and messages of the pages and the API). A playbook is named by a version's id or its CACAO id;
organisations and vigilance centres by their slug."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx
from core.errors import NotFound
from core.identity.models import Organisation
from playbooks.automation import services as svc
from playbooks.automation.words import cron_words
from playbooks.models import Playbook, TriggerEvent
from playbooks.settings import PlaybookSettings, of_context

EVENTS = [e.value for e in TriggerEvent]


def _cacao_id(session: Session, playbook: str) -> str:
    row = (
        session.get(Playbook, int(playbook))
        if playbook.isdigit()
        else session.scalar(select(Playbook).where(Playbook.cacao_id == playbook).limit(1))
    )
    if row is None:
        raise NotFound(f"no playbook {playbook}")
    return row.cacao_id


def _organisation_ids(session: Session, slugs: tuple[str, ...]) -> list[int]:
    query = select(Organisation.slug, Organisation.id).where(Organisation.slug.in_(slugs))
    found: dict[str, int] = {row.slug: row.id for row in session.execute(query)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise click.ClickException(f"no organisation with the slug {', '.join(missing)}")
    return sorted({found[s] for s in slugs})


def _settings(ctx: CliContext) -> PlaybookSettings:
    return of_context(ctx.settings)


def _echo_json(items: list[Any]) -> None:
    click.echo(json.dumps([i.model_dump(mode="json") for i in items], indent=2, ensure_ascii=False))


# ---------------------------------------------------------------- triggers
@click.command("triggers")
@click.option("--playbook", help="Only this playbook's (version id or CACAO id).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of lines.")
@pass_ctx
@fail_on_domain_error
def triggers(ctx: CliContext, playbook: str | None, as_json: bool) -> None:
    """Every trigger: playbook, event, conditions, state."""
    with ctx.unit_of_work() as uow:
        cacao_id = _cacao_id(uow.session, playbook) if playbook else None
        shown = [svc.trigger_out(uow.session, t) for t in svc.list_triggers(uow.session, cacao_id)]
    if as_json:
        return _echo_json(shown)
    if not shown:
        click.echo("no triggers (add one with cert playbooks trigger-add)")
    for t in shown:
        state = "enabled" if t.enabled else "disabled"
        conditions = " ".join(f"{k}={v}" for k, v in t.conditions.items()) or "every incident"
        click.echo(f"#{t.id} {t.playbook_name or t.cacao_id}: on {t.event.value} "
                   f"[{state}] {conditions}")  # fmt: skip


@click.command("trigger-add")
@click.argument("playbook")
@click.option("--event", type=click.Choice(EVENTS), required=True)
@click.option("--category", "categories", multiple=True, help="RSIT class id (repeatable).")
@click.option("--type", "types", multiple=True, help="RSIT type id (repeatable).")
@click.option("--min-priority", help="P1 to P4: at least as urgent.")
@click.option("--tlp", multiple=True, help="TLP label (repeatable).")
@click.option("--organisation", "organisations", multiple=True, help="Organisation slug.")
@click.option("--sector", "sectors", multiple=True, help="Sector (repeatable).")
@click.option("--centre", "centres", multiple=True,
              help="Vigilance centre slug: the incident's centre (repeatable).")  # fmt: skip
@click.option("--status", "statuses", multiple=True, help="New status (event status only).")
@click.option("--disabled", is_flag=True, help="Add it disabled.")
@pass_ctx
@fail_on_domain_error
def trigger_add(ctx: CliContext, /, playbook: str, event: str, **options: Any) -> None:
    """Start the after-incident PLAYBOOK when EVENT happens and the conditions hold."""
    with ctx.unit_of_work(write=True) as uow:
        ids = _organisation_ids(uow.session, options["organisations"])
        conditions = {key: list(options[key]) for key in
                      ("categories", "types", "tlp", "sectors", "centres",
                       "statuses")}  # fmt: skip
        conditions |= {"min_priority": options["min_priority"], "organisation_ids": ids}
        data = {"event": event, "conditions": conditions, "enabled": not options["disabled"]}
        cacao_id = _cacao_id(uow.session, playbook)
        trigger = svc.add_trigger(uow.session, cli_actor(), cacao_id, data, clock=ctx.clock)
        click.echo(f"added trigger #{trigger.id} on {trigger.event.value} of {cacao_id}")


@click.command("trigger-set")
@click.argument("trigger_id", type=int)
@click.option("--enable/--disable", "enabled", required=True)
@pass_ctx
@fail_on_domain_error
def trigger_set(ctx: CliContext, trigger_id: int, enabled: bool) -> None:
    """Enable or disable a trigger."""
    with ctx.unit_of_work(write=True) as uow:
        trigger = svc.get_trigger(uow.session, trigger_id)
        svc.set_trigger_enabled(uow.session, cli_actor(), trigger, enabled, clock=ctx.clock)
    click.echo(f"trigger #{trigger_id} {'enabled' if enabled else 'disabled'}")


@click.command("trigger-remove")
@click.argument("trigger_id", type=int)
@pass_ctx
@fail_on_domain_error
def trigger_remove(ctx: CliContext, trigger_id: int) -> None:
    """Delete a trigger (the runs it started are kept)."""
    with ctx.unit_of_work(write=True) as uow:
        trigger = svc.get_trigger(uow.session, trigger_id)
        svc.delete_trigger(uow.session, cli_actor(), trigger, clock=ctx.clock)
    click.echo(f"trigger #{trigger_id} deleted")


# ---------------------------------------------------------------- schedules
@click.command("schedules")
@click.option("--playbook", help="Only this playbook's (version id or CACAO id).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of lines.")
@pass_ctx
@fail_on_domain_error
def schedules(ctx: CliContext, playbook: str | None, as_json: bool) -> None:
    """Every schedule: playbook, cron, organisations, next slot."""
    with ctx.unit_of_work() as uow:
        cacao_id = _cacao_id(uow.session, playbook) if playbook else None
        rows = svc.list_schedules(uow.session, cacao_id)
        shown = [svc.schedule_out(uow.session, s) for s in rows]
    if as_json:
        return _echo_json(shown)
    if not shown:
        click.echo("no schedules (add one with cert playbooks schedule-add)")
    for s in shown:
        state = "enabled" if s.enabled else "disabled"
        words = cron_words(s.cron) or s.cron
        orgs = (
            f"centre {s.centre}"
            if s.centre is not None
            else "every organisation"
            if s.organisation_ids is None
            else f"organisations {s.organisation_ids}"
        )
        nxt = f"next {s.next_fire_at:%Y-%m-%d %H:%M} UTC" if s.next_fire_at else "not due"
        click.echo(f"#{s.id} {s.playbook_name or s.cacao_id}: {words} ({s.cron}, {s.timezone}) "
                   f"for {orgs} [{state}] {nxt}")  # fmt: skip


@click.command("schedule-add")
@click.argument("playbook")
@click.option("--cron", required=True, help='Five fields, e.g. "0 7 * * *".')
@click.option("--timezone", help="IANA time zone (default: the CERT's, CERT_TIMEZONE).")
@click.option("--organisation", "organisations", multiple=True, help="Slug (default: all).")
@click.option("--centre", help="A vigilance centre's slug: the organisations of its constituency.")
@click.option("--disabled", is_flag=True, help="Add it disabled.")
@pass_ctx
@fail_on_domain_error
def schedule_add(ctx: CliContext, /, playbook: str, cron: str, timezone: str | None,
                 organisations: tuple[str, ...], centre: str | None,
                 disabled: bool) -> None:  # fmt: skip
    """Fire the before-incident PLAYBOOK on a cron schedule."""
    with ctx.unit_of_work(write=True) as uow:
        ids = _organisation_ids(uow.session, organisations) or None
        data = {"cron": cron, "timezone": timezone, "organisation_ids": ids, "centre": centre,
                "enabled": not disabled}  # fmt: skip
        schedule = svc.add_schedule(uow.session, cli_actor(), _cacao_id(uow.session, playbook),
                                    data, clock=ctx.clock, settings=_settings(ctx))  # fmt: skip
        nxt = f"next {schedule.next_fire_at:%Y-%m-%d %H:%M} UTC" if schedule.next_fire_at else ""
        click.echo(f"added schedule #{schedule.id} ({schedule.cron}, {schedule.timezone}) {nxt}")


@click.command("schedule-set")
@click.argument("schedule_id", type=int)
@click.option("--cron", help="A new cron expression.")
@click.option("--timezone", help="A new IANA time zone.")
@click.option("--organisation", "organisations", multiple=True, help="Slug (replaces the set).")
@click.option("--centre", help="A vigilance centre's slug (replaces the organisations).")
@click.option("--all-organisations", is_flag=True, help="For every organisation.")
@click.option("--enable/--disable", "enabled", default=None)
@pass_ctx
@fail_on_domain_error
def schedule_set(ctx: CliContext, /, schedule_id: int, **options: Any) -> None:
    """Change a schedule; its next slot is computed again from now."""
    with ctx.unit_of_work(write=True) as uow:
        schedule = svc.get_schedule(uow.session, schedule_id, for_update=True)
        ids: list[int] | None = schedule.organisation_ids
        centre = schedule.centre.slug if schedule.centre is not None else None
        if options["organisations"]:
            ids = _organisation_ids(uow.session, options["organisations"])
            centre = options["centre"]
        elif options["centre"]:
            ids, centre = None, options["centre"]
        if options["all_organisations"]:
            ids, centre = None, None
        data = {
            "cron": options["cron"] or schedule.cron,
            "timezone": options["timezone"] or schedule.timezone,
            "organisation_ids": ids,
            "centre": centre,
            "enabled": schedule.enabled if options["enabled"] is None else options["enabled"],
        }
        svc.update_schedule(uow.session, cli_actor(), schedule, data, clock=ctx.clock,
                            settings=_settings(ctx))  # fmt: skip
        nxt = (
            f"next {schedule.next_fire_at:%Y-%m-%d %H:%M} UTC"
            if schedule.next_fire_at
            else "not due"
        )
        click.echo(f"schedule #{schedule_id}: {schedule.cron} ({schedule.timezone}), {nxt}")


@click.command("schedule-remove")
@click.argument("schedule_id", type=int)
@pass_ctx
@fail_on_domain_error
def schedule_remove(ctx: CliContext, schedule_id: int) -> None:
    """Delete a schedule (the runs it started are kept)."""
    with ctx.unit_of_work(write=True) as uow:
        schedule = svc.get_schedule(uow.session, schedule_id, for_update=True)
        svc.delete_schedule(uow.session, cli_actor(), schedule, clock=ctx.clock)
    click.echo(f"schedule #{schedule_id} deleted")


COMMANDS = (triggers, trigger_add, trigger_set, trigger_remove,
            schedules, schedule_add, schedule_set, schedule_remove)  # fmt: skip
