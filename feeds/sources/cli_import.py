"""``cert feeds import PATH [--feed NAME] [--json]``: import a STIX 2.1 bundle (or another feed
document) by hand, and print the run's counts and rejections."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core.commands import CliContext, pass_ctx
from core.identity.authz import Actor
from feeds.models import FeedRun
from feeds.sources.imports import ImportRefused, import_document


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--feed", "feed_name", help="The feed to import into (default: manual).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@pass_ctx
def import_command(ctx: CliContext, path: Path, feed_name: str | None, as_json: bool) -> None:
    """Import the document at PATH (recognised from its content) into a feed's indicators;
    print the counts and every rejected object (id and reason). Exit 1, writing nothing, when
    the document is not a feed document of the feed's kind."""
    data = path.read_bytes()
    actor = Actor.system("cli:feeds-import")
    try:
        with ctx.unit_of_work(actor, write=True) as uow:
            run = import_document(
                uow.session, actor, data, name=path.name, feed_name=feed_name, now=ctx.clock.now()
            )
            report = _report(run)
            summary = _text(run)
    except ImportRefused as exc:
        click.echo(f"refused: {exc.message}", err=True)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(summary)


def _report(run: FeedRun) -> dict[str, object]:
    return {
        "feed": run.feed.name,
        "run": run.id,
        "document": run.document,
        "status": run.status.value,
        "counts": {**run.counts(), "skipped": run.skipped},
        "rejections": list(run.rejections),
    }


def _text(run: FeedRun) -> str:
    counts = {**run.counts(), "skipped": run.skipped}
    lines = [
        f"{run.document} → feed {run.feed.name}, run {run.id}: {run.status.value}",
        ", ".join(f"{name} {number}" for name, number in counts.items()),
    ]
    lines.extend(f"rejected {item['ref']}: {item['reason']}" for item in run.rejections)
    return "\n".join(lines)
