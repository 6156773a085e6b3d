"""``cert playbooks import|export|list``: the playbook library from the command line (added to
the slice's group in :mod:`playbooks.commands`). Commands act as ``cli:<login>``.

* ``import PATH [--json]``: validates and stores one version; an invalid document prints every
  problem as ``path: message`` on stderr and exits 1 (nothing stored); ``--json`` prints one
  JSON object either way.
* ``export ID``: the document of a version (row id) or of a playbook's current version (CACAO
  id), byte for byte as imported.
* ``list [--json] [--phase before|after] [--all-versions]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from core.commands import CliContext, cli_actor, fail_on_domain_error, pass_ctx
from core.errors import DomainError
from playbooks.library.exports import export_playbook, find_version
from playbooks.library.queries import playbook_out, playbook_query
from playbooks.library.services import MAX_DOCUMENT_BYTES, InvalidPlaybook, import_playbook
from playbooks.models import Phase
from playbooks.rules.validate import Problem


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (also when refused).")
@pass_ctx
def import_command(ctx: CliContext, path: Path, as_json: bool) -> None:
    """Import the CACAO 2.0 playbook at PATH as a version of its playbook; print every problem
    (JSON path: message) and exit 1, storing nothing, when it is invalid."""
    actor = cli_actor()
    try:
        data = _read(path)
        with ctx.unit_of_work(actor, write=True) as uow:
            imported = import_playbook(uow.session, actor, data, clock=ctx.clock)
            out = playbook_out(imported.playbook)
            created = imported.created
    except InvalidPlaybook as exc:
        problems = [{"path": p.path, "message": p.message} for p in exc.problems]
        _refuse(as_json, {"status": "invalid", "problems": problems},
                [f"{p['path']}: {p['message']}" for p in problems])  # fmt: skip
    except DomainError as exc:
        details = [f"{k}: {v}" for k, v in exc.fields.items()]
        _refuse(as_json, {"status": exc.code, "message": exc.message, "fields": exc.fields},
                [exc.message, *details])  # fmt: skip
    if as_json:
        status = "imported" if created else "already imported"
        click.echo(json.dumps({"status": status, "playbook": out.model_dump(mode="json")},
                              indent=2, ensure_ascii=False))  # fmt: skip
        return
    prefix = "imported" if created else "already imported"
    click.echo(f"{prefix} {out.name} (version {out.version})")


@click.command("export")
@click.argument("ident")
@pass_ctx
@fail_on_domain_error
def export_command(ctx: CliContext, ident: str) -> None:
    """Print the document of playbook IDENT — a version's row id, or a CACAO id for its current
    version — exactly as it was imported."""
    with ctx.unit_of_work() as uow:
        document = export_playbook(uow.session, find_version(uow.session, ident))
    sys.stdout.write(document)
    sys.stdout.flush()


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@click.option("--phase", type=click.Choice([p.value for p in Phase]), help="Before or after.")
@click.option("--all-versions", is_flag=True, help="Every version, not only the current ones.")
@pass_ctx
@fail_on_domain_error
def list_command(ctx: CliContext, as_json: bool, phase: str | None, all_versions: bool) -> None:
    """The playbooks (their current versions), by name."""
    query = playbook_query(phase=Phase(phase) if phase else None, all_versions=all_versions)
    with ctx.unit_of_work() as uow:
        shown = [playbook_out(p) for p in uow.session.scalars(query)]
    if as_json:
        rows = [p.model_dump(mode="json") for p in shown]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not shown:
        click.echo("no playbooks (import one with cert playbooks import PATH)")
    for p in shown:
        state = "revoked" if p.revoked else "enabled" if p.enabled else "disabled"
        mark = "" if p.current else "  (older version)"
        click.echo(f"{p.id:>5}  {p.phase.value:<6} {state:<8} {p.version}  {p.name}  "
                   f"{p.cacao_id}{mark}")  # fmt: skip


def _read(path: Path) -> bytes:
    if path.stat().st_size > MAX_DOCUMENT_BYTES:  # refused before reading it all
        raise InvalidPlaybook([Problem("$", f"larger than {MAX_DOCUMENT_BYTES} bytes")])
    return path.read_bytes()


def _refuse(as_json: bool, report: dict[str, Any], lines: list[str]) -> NoReturn:
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            click.echo(line, err=True)
    raise SystemExit(1)


COMMANDS = (import_command, export_command, list_command)
