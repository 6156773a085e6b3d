"""``cert feeds``: the sources of threat intelligence from the command line (the slice's
command group, listed in :data:`feeds.slice.SLICE`).

``import`` reads a document by hand (:mod:`feeds.sources.cli_import`), ``add`` / ``add-taxii``
create a feed, ``list`` shows them, ``poll`` reads one (or every enabled
one) now and prints each run's counts and rejections, ``runs`` shows the history. Commands act
as ``cli:<login>``, audited like a lead. A password is never given on the command line: put it
in an environment variable and name it with ``--password-env``.
"""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx
from feeds.models import Feed, FeedRun, RunTrigger
from feeds.settings import FeedSettings
from feeds.sources.cli_import import import_command
from feeds.sources.fetch import RequestsHttp
from feeds.sources.poll import poll_feed
from feeds.sources.schemas import LIST_TYPES
from feeds.sources.services import add_feed, feed_out, find_feed, is_due, list_feeds, run_out

KINDS = ("stix-url", "misp-feed", "csv")
TYPES = [t.value for t in LIST_TYPES]
SHOWN_REJECTIONS = 20


def _refuse_password(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.BadParameter(
            "never give a password on the command line (it stays in the shell's history and the "
            "process list): put it in an environment variable and name it with --password-env"
        )


def _common(fn: Any) -> Any:
    for decorator in reversed(
        (
            click.option("--url", required=True, help="The source's http(s) URL."),
            click.option("--tlp", default="TLP:AMBER", show_default=True, help="Default TLP."),
            click.option("--confidence", type=int, default=50, show_default=True),
            click.option(
                "--types",
                "kept",
                default="",
                help="Observable types kept, comma-separated (default: all).",
            ),
            click.option("--interval", type=int, help="Seconds between polls (none: by hand)."),
            click.option("--disabled", is_flag=True, help="Add it disabled."),
        )
    ):
        fn = decorator(fn)
    return fn


@click.group("feeds")
def feeds() -> None:
    """Sources of threat intelligence: STIX, TAXII, MISP feeds and blocklists."""


feeds.add_command(import_command)


@feeds.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@_common
@click.option("--type", "value_type", type=click.Choice(TYPES), help="csv: the values' type.")
@click.option("--column", type=int, help="csv: 1-based column of the value (default 1).")
@click.option("--delimiter", help="csv: the column delimiter, one character (default ,).")
@pass_ctx
@fail_on_domain_error
def add(ctx: CliContext, /, name: str, kind: str, **options: Any) -> None:
    """Add a STIX bundle URL, MISP feed or CSV/text blocklist feed."""
    data = _data(name, kind, options)
    with ctx.unit_of_work(write=True) as uow:
        feed = add_feed(uow.session, cli_actor(), data, now=ctx.clock.now())
        click.echo(f"added feed {feed.name} ({feed.kind.value})")


@feeds.command("add-taxii")
@click.argument("name")
@_common
@click.option("--collection", required=True, help="The TAXII collection's id.")
@click.option("--user", "username", help="HTTP Basic user name.")
@click.option(
    "--password-env",
    help="The NAME of the environment variable holding the password (or a bearer token "
    "without --user), read at each poll.",
)
@click.option("--password", hidden=True, expose_value=False, callback=_refuse_password)
@pass_ctx
@fail_on_domain_error
def add_taxii(ctx: CliContext, /, name: str, **options: Any) -> None:
    """Add a TAXII 2.1 collection (URL: the server's discovery URL or an API root)."""
    data = _data(name, "taxii", options)
    with ctx.unit_of_work(write=True) as uow:
        feed = add_feed(uow.session, cli_actor(), data, now=ctx.clock.now())
        click.echo(f"added feed {feed.name} (taxii, collection {feed.collection})")


def _data(name: str, kind: str, options: dict[str, Any]) -> dict[str, Any]:
    kept = [t.strip() for t in options.pop("kept", "").split(",") if t.strip()]
    data = {k: v for k, v in options.items() if v is not None}
    data["interval_seconds"] = data.pop("interval", None)
    data["enabled"] = not data.pop("disabled", False)
    return data | {"name": name, "kind": kind, "types": kept}


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@pass_ctx
@fail_on_domain_error
def list_command(ctx: CliContext, as_json: bool) -> None:
    """Every feed with its state, last run and next poll."""
    with ctx.unit_of_work() as uow:
        shown = [feed_out(feed) for feed in list_feeds(uow.session)]
    if as_json:
        click.echo(json.dumps([f.model_dump(mode="json") for f in shown], indent=2))
        return
    if not shown:
        click.echo("no feeds (add one with cert feeds add or cert feeds add-taxii)")
    for f in shown:
        state = "enabled" if f.enabled else "disabled"
        last = f"{f.last_run_at:%Y-%m-%d %H:%M} {f.last_status}" if f.last_run_at else "never"
        nxt = f"{f.next_poll_at:%Y-%m-%d %H:%M}" if f.next_poll_at else "by hand"
        click.echo(
            f"{f.name:<24} {f.kind.value:<10} {state:<8} last: {last}  next: {nxt}  "
            f"{_counts(f.last_counts)}  {f.url or '(imported by hand)'}"
        )


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{k} {v}" for k, v in counts.items()) if counts else ""


@feeds.command("poll")
@click.argument("name", required=False)
@click.option("--due", is_flag=True, help="Without NAME: only the feeds due now.")
@pass_ctx
@fail_on_domain_error
def poll(ctx: CliContext, name: str | None, due: bool) -> None:
    """Poll feed NAME now (without NAME: every enabled feed, or those due with --due) and print
    each run's counts and rejections; exit 1 when a run failed."""
    settings = ctx.settings.get("feeds")
    http = RequestsHttp(settings if isinstance(settings, FeedSettings) else FeedSettings())
    with ctx.unit_of_work() as uow:
        if name:
            names = [find_feed(uow.session, name).name]
        else:
            now = ctx.clock.now()
            feeds_ = [f for f in list_feeds(uow.session) if f.enabled]
            names = [f.name for f in feeds_ if not due or is_due(f, now)]
    failed = 0
    for each in names:
        with ctx.unit_of_work() as uow:
            feed = find_feed(uow.session, each)
            uow.commit()
            run = poll_feed(uow, cli_actor(), feed, http, clock=ctx.clock, trigger=RunTrigger.CLI)
            _print_run(each, run)
            failed += run.error is not None
    if not names:
        click.echo("no feed to poll")
    if failed:
        raise SystemExit(1)


def _print_run(name: str, run: FeedRun) -> None:
    click.echo(f"{name}: {run.status.value} — {_counts(run.counts())} skipped {run.skipped}")
    if run.error:
        click.echo(f"  error: {run.error}")
    for rejection in run.rejections[:SHOWN_REJECTIONS]:
        click.echo(f"  rejected {rejection.get('ref')}: {rejection.get('reason')}")
    if len(run.rejections) > SHOWN_REJECTIONS:
        click.echo(f"  … {run.rejected - SHOWN_REJECTIONS} more (cert feeds runs {name} --json)")


@feeds.command("runs")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON, with every rejection.")
@pass_ctx
@fail_on_domain_error
def runs(ctx: CliContext, name: str | None, limit: int, as_json: bool) -> None:
    """The latest runs (of feed NAME, or of every feed), newest first."""
    with ctx.unit_of_work() as uow:
        query = select(FeedRun, Feed.name).join(Feed).order_by(FeedRun.id.desc()).limit(limit)
        if name:
            query = query.where(FeedRun.feed_id == find_feed(uow.session, name).id)
        rows = [(run, feed_name) for run, feed_name in uow.session.execute(query).all()]
        shown = [run_out(run, feed_name) for run, feed_name in rows]
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in shown], indent=2))
        return
    if not shown:
        click.echo("no runs")
    for r in shown:
        click.echo(
            f"#{r.id} {r.feed:<24} {r.started_at:%Y-%m-%d %H:%M:%S} {r.trigger:<8} "
            f"{r.status:<9} new {r.new} updated {r.updated} unchanged {r.unchanged} "
            f"revoked {r.revoked} expired {r.expired} rejected {r.rejected}"
            + (f"  error: {r.error}" if r.error else "")
        )
