"""``cert bulletins export`` on both databases, through the real ``cert`` group: a published
bulletin by reference in html, text and pdf (and in Arabic), a draft by ``--id``, a revision in
progress never exported by reference, and clean errors naming an unknown reference, format,
language version or bulletin id, with no file written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bulletins.authoring import services as svc
from bulletins.models import Bulletin
from cert.cli import cli, load_commands
from core.clock import FrozenClock
from core.db import make_session_factory
from core.uow import transaction
from tests.bulletins.outputs_kit import ARABIC_TITLE, advisory, full
from tests.bulletins.test_authoring import draft, people
from tests.dbs import TestDatabase
from tests.kit.world import World

load_commands()


def _env(db: TestDatabase, tmp_path: Path) -> dict[str, str]:
    return {
        "CERT_DATABASE_URL": db.url,
        "CERT_INSTANCE_DIR": str(tmp_path / "instance"),
        "CERT_SECRET_KEY": "s" * 40,
        "CERT_NAME": "maCERT",
    }


def _data(db: TestDatabase) -> tuple[str, int, int]:
    """A published bulletin (its reference), another reopened for a revision (its id) and a
    draft (its id), committed."""
    clock = FrozenClock()
    with transaction(make_session_factory(db.engine), write=True) as session:
        world = World(session, clock)
        published = advisory(session, clock, world, tlp="green")
        revised = advisory(session, clock, world, tlp="green")
        author, _, _ = people(world)
        svc.revise(session, author, revised, clock=clock)
        svc.update_draft(session, author, revised,
                         draft(**full(texts={"fr": {"title": "Révision en cours"}})),
                         clock=clock)  # fmt: skip
        fresh = svc.create_draft(session, author, draft(texts={"fr": {"title": "Neuf"}}),
                                 clock=clock)  # fmt: skip
        session.flush()
        assert published.reference is not None
        return published.reference, revised.id, fresh.id


def test_export_a_published_bulletin_in_each_format(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    reference, revised, fresh = _data(fresh_database)
    env, runner = _env(fresh_database, tmp_path), CliRunner()
    for name, start in (("html", b"<!doctype html>"), ("text", b"TLP:GREEN\n"), ("pdf", b"%PDF-")):
        out = tmp_path / f"out.{name}"
        result = runner.invoke(cli, ["bulletins", "export", reference.lower(), "--format", name,
                                     "-o", str(out)], env=env)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(start), name
        assert str(out) in result.output
    arabic = tmp_path / "ar.html"
    result = runner.invoke(cli, ["bulletins", "export", reference, "--format", "html",
                                 "--language", "ar", "-o", str(arabic)], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert ARABIC_TITLE in arabic.read_text() and 'dir="rtl"' in arabic.read_text()
    preview = tmp_path / "draft.txt"
    result = runner.invoke(cli, ["bulletins", "export", "--id", str(fresh), "--format", "text",
                                 "-o", str(preview)], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Neuf" in preview.read_text() and "Brouillon" in preview.read_text()


def test_a_revision_in_progress_is_not_exported_by_reference(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    _, revised, _ = _data(fresh_database)
    env, runner = _env(fresh_database, tmp_path), CliRunner()
    with transaction(make_session_factory(fresh_database.engine)) as session:
        reference = session.get(Bulletin, revised).reference  # type: ignore[union-attr]
    out = tmp_path / "r.txt"
    result = runner.invoke(cli, ["bulletins", "export", str(reference), "--format", "text",
                                 "-o", str(out)], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Vulnérabilité critique" in out.read_text()
    assert "Révision en cours" not in out.read_text()


def test_bad_input_is_a_clean_error_and_writes_nothing(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    reference, _, fresh = _data(fresh_database)
    env, runner = _env(fresh_database, tmp_path), CliRunner()
    out = tmp_path / "never.txt"
    cases = {
        ("MACERT-AVI-2026-9999", "--format", "text"): "MACERT-AVI-2026-9999",
        (reference, "--format", "docx"): "docx",
        (reference, "--format", "text", "--language", "en"): "no en version",
        ("--id", "999999", "--format", "text"): "999999",
        ("--format", "text"): "REFERENCE or --id",
    }
    for args, words in cases.items():
        result = runner.invoke(cli, ["bulletins", "export", *args, "-o", str(out)], env=env)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output and "Traceback" not in result.output, args
        assert not out.exists(), args
    unknown = runner.invoke(cli, ["bulletins", "export", reference, "--format", "docx",
                                  "-o", str(out)], env=env)  # fmt: skip
    assert "html" in unknown.output and "pdf" in unknown.output and "text" in unknown.output
    assert fresh  # the draft exists, but never under a reference
