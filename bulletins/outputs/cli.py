"""``cert bulletins export``: a bulletin in one of the registered formats
(:mod:`bulletins.outputs.formats`: ``pdf``, ``html``, ``text``, and ``csaf``, ``stix`` when
registered), written to a file.

``cert bulletins export REFERENCE --format pdf -o FILE [--language fr|en|ar]`` exports what was
published last (a revision in progress never shows); ``--id N`` instead of a reference exports
bulletin N as it stands, drafts included (the CERT's preview). An unknown reference, format or
language version is a one-line error naming it, and no file is written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bulletins.models import Bulletin
from bulletins.outputs import formats
from bulletins.outputs.view import BulletinView, current_view, published_view
from bulletins.settings import of_context
from core.commands import CliContext, pass_ctx


@click.command("export")
@click.argument("reference", required=False)
@click.option("--id", "bulletin_id", type=int, help="A bulletin's id: exported as it stands, "
              "drafts included (preview).")  # fmt: skip
@click.option("--format", "format_name", required=True, metavar="FORMAT",
              help="pdf, csaf, stix, html or text (the registered formats).")  # fmt: skip
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write ('-': standard output).")  # fmt: skip
@click.option("--language", type=click.Choice(["fr", "en", "ar"]), default="fr",
              show_default=True, help="The language version (HTML, text, PDF).")  # fmt: skip
@pass_ctx
def export_command(
    ctx: CliContext,
    reference: str | None,
    bulletin_id: int | None,
    format_name: str,
    output: Path,
    language: str,
) -> None:
    """Export the bulletin REFERENCE (e.g. MACERT-AVI-2026-0042) as published last, or the
    bulletin --id N as it stands, in --format to the file -o."""
    if (reference is None) == (bulletin_id is None):
        raise click.UsageError("give a bulletin's REFERENCE or --id N (one of them)")
    try:
        fmt = formats.by_name(format_name.strip().lower())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--format'") from None
    settings = of_context(ctx.settings)
    with ctx.unit_of_work() as uow:
        view = _view(uow.session, reference, bulletin_id)
        if language not in view.languages:
            raise click.BadParameter(
                f"the bulletin has no {language} version (versions: {', '.join(view.languages)})",
                param_hint="'--language'",
            )
        render_ctx = formats.RenderContext(
            session=uow.session, settings=settings, language=language,
            base_url=settings.base_url, now=ctx.clock.now(),
        )  # fmt: skip
        rendered = fmt.render(render_ctx, view)
    _write(output, rendered.body)
    if str(output) != "-":
        click.echo(f"{formats.file_name(view, fmt)} → {output} ({len(rendered.body)} bytes)")


def _view(session: Session, reference: str | None, bulletin_id: int | None) -> BulletinView:
    if bulletin_id is not None:
        bulletin = session.get(Bulletin, bulletin_id)
        if bulletin is None:
            raise click.BadParameter(f"no bulletin with id {bulletin_id}", param_hint="'--id'")
        return current_view(session, bulletin)
    wanted = (reference or "").strip().upper()
    found = session.scalar(select(Bulletin).where(func.upper(Bulletin.reference) == wanted))
    view = published_view(session, found) if found is not None else None
    if view is None:
        raise click.BadParameter(f"no published bulletin {reference!r}", param_hint="REFERENCE")
    return view


def _write(output: Path, body: bytes) -> None:
    """The whole file or nothing (a temporary file renamed into place)."""
    if str(output) == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    directory = output.resolve().parent
    if not directory.is_dir():
        raise click.BadParameter(f"no directory {directory}", param_hint="'-o'")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


COMMANDS: tuple[click.Command, ...] = (export_command,)
