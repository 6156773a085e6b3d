"""``cert bulletins import-csaf PATH|URL [--json]``: a vendor's CSAF 2.0 advisory as a bulletin
draft (:mod:`bulletins.csaf.importer`), written as the system actor ``cli:<login>``. A refused
document prints every problem and exits 1 with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bulletins.csaf.importer import fetch, import_advisory, read_path
from bulletins.settings import of_context
from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx
from feeds.settings import FeedSettings


def _feed_settings(ctx: CliContext) -> FeedSettings:
    found = ctx.settings.get("feeds")
    return found if isinstance(found, FeedSettings) else FeedSettings()


@click.command("import-csaf")
@click.argument("source", metavar="PATH|URL")
@click.option("--json", "as_json", is_flag=True, help="A JSON object instead of lines.")
@pass_ctx
@fail_on_domain_error
def import_csaf(ctx: CliContext, source: str, as_json: bool) -> None:
    """Import a vendor's CSAF 2.0 advisory (a file or an http(s) URL) as a draft advisory."""
    is_url = source.lower().startswith(("http://", "https://"))
    raw = fetch(source, _feed_settings(ctx)) if is_url else read_path(Path(source))
    origin = source if is_url else Path(source).name
    with ctx.unit_of_work() as uow:
        bulletin = import_advisory(
            uow.session, cli_actor(), raw, origin=origin, published=is_url, clock=ctx.clock
        )
        text = bulletin.text("fr")
        answer = {
            "id": bulletin.id,
            "status": bulletin.status.value,
            "kind": bulletin.kind.value,
            "title": text.title if text else "",
            "tlp": bulletin.tlp,
            "risk": bulletin.risk.value,
            "cves": list(bulletin.cves),
            "source_ref": bulletin.source_ref,
            "url": f"{of_context(ctx.settings).base_url}/bulletins/{bulletin.id}",
        }
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    click.echo(f"draft {answer['id']}: {answer['title']}")
    click.echo(f"  {answer['url']}")


COMMANDS: tuple[click.Command, ...] = (import_csaf,)
