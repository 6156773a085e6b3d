"""``cert backup`` / ``cert restore`` on both databases and across them: every row of every table
and every uploaded file comes back, and the application works on what was restored."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cert import schema
from cert.app import create_app
from core.auth import mfa
from core.db import Base
from core.identity.models import User
from tests.dbs import BACKENDS, create_database
from tests.kit.backups import (
    ATTACHMENT,
    MARKER,
    SECRET_KEY,
    Vigie,
    count,
    files,
    holds_rows,
    seed,
    snapshot,
)
from tests.kit.config import SUITE_SETTINGS
from tests.kit.factories import PASSWORD
from tests.kit.web import login


@pytest.fixture(scope="module", params=BACKENDS)
def source(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Vigie, dict[str, object], Path]]:
    """A seeded Vigie per backend and its archive (made once per module)."""
    home = tmp_path_factory.mktemp(f"source-{request.param}")
    db = create_database(request.param, home)
    vigie = Vigie(db, home)
    facts = seed(vigie)
    archive = home / "vigie.tar.gz"
    result = vigie.cert("backup", "--output", str(archive))
    assert result.exit_code == 0, result.output
    yield vigie, facts, archive
    db.drop()


@pytest.fixture
def target(fresh_database, tmp_path: Path) -> Vigie:  # type: ignore[no-untyped-def]
    return Vigie(fresh_database, tmp_path / "target")


def test_every_table_and_every_file_come_back(source, target: Vigie) -> None:  # type: ignore[no-untyped-def]
    """SQLite → SQLite, SQLite → PostgreSQL, PostgreSQL → SQLite, PostgreSQL → PostgreSQL."""
    vigie, _facts, archive = source
    expected = snapshot(vigie.db.engine)
    for table in (
        "incidents",
        "incident_attachments",
        "users",
        "outbox_messages",
        "indicators",
        "bulletins",
        "audit_log",
        "apscheduler_jobs",
        "inbound_mails",
        "feeds",
    ):
        assert expected[table], f"the seed left {table} empty: the test would prove nothing"
    assert set(expected) == {
        t.name for t in Base.metadata.tables.values() if not t.name.startswith("fts_")
    }

    result = target.cert("restore", str(archive))

    assert result.exit_code == 0, result.output
    assert f"at revision {schema.head_revision()}" in result.output
    restored = snapshot(target.db.engine)
    for table, rows in expected.items():
        assert restored[table] == rows, table
    assert files(target.upload_dir) == files(vigie.upload_dir)
    assert len(files(vigie.upload_dir)) >= 5  # the demo's mail and the two attachments


def test_the_application_works_on_a_restored_vigie(source, target: Vigie) -> None:  # type: ignore[no-untyped-def]
    vigie, facts, archive = source
    assert target.cert("restore", str(archive)).exit_code == 0
    app = create_app(
        {
            "testing": True,
            "instance_dir": target.home,
            "upload_dir": target.upload_dir,
            "database_url": target.db.url,
            "secret_key": SECRET_KEY,
            "smtp_url": "smtp://127.0.0.1:2525",
            "mail_from": "Vigie <cert@example.test>",
            **SUITE_SETTINGS,
        }
    )
    try:
        _use_restored_app(app, target, facts)
    finally:
        app.extensions["vigie"].session_factory.kw["bind"].dispose()


def _use_restored_app(app: Flask, target: Vigie, facts: dict[str, object]) -> None:
    client: FlaskClient = app.test_client()
    assert login(client, str(facts["analyst"]), PASSWORD).status_code == 302

    found = client.get(f"/queue?q={MARKER}")
    assert found.status_code == 200
    assert str(facts["reference"]) in found.get_data(as_text=True)  # the search index is there
    page = client.get(f"/incidents/{facts['reference']}")
    assert page.status_code == 200
    assert "capture.bin" in page.get_data(as_text=True)
    with Session(target.db.engine) as session:
        from incidents.models import Attachment

        attachment = session.scalars(
            select(Attachment).where(Attachment.filename == "capture.bin")
        ).one()
        enrolled = session.scalars(
            select(User).where(User.email == "restore.totp@macert.gov.ma")
        ).one()
        assert mfa.sealer(SECRET_KEY).open(enrolled.totp_secret or "") == facts["totp"]
    download = client.get(f"/incidents/{facts['reference']}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == ATTACHMENT
    download.close()
    # the sequences go on after the restored ids: new rows can be written
    before = count(target.db.engine, "organisations")
    created = target.cert("orgs", "create", "--slug", "apres-restauration", "--name", "Après")
    assert created.exit_code == 0, created.output
    assert count(target.db.engine, "organisations") == before + 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_empty_unmigrated_database_is_migrated_then_filled(
    source,
    backend: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    vigie, _facts, archive = source
    db = create_database(backend, tmp_path, migrate=False)
    try:
        target = Vigie(db, tmp_path / "target")
        result = target.cert("restore", str(archive))
        assert result.exit_code == 0, result.output
        assert schema.current_revision(db.engine) == schema.head_revision()
        assert snapshot(db.engine) == snapshot(vigie.db.engine)
    finally:
        db.drop()


def test_a_database_with_data_is_refused_unless_forced(source, target: Vigie) -> None:  # type: ignore[no-untyped-def]
    vigie, _facts, archive = source
    assert target.cert("orgs", "create", "--slug", "deja-la", "--name", "Déjà là").exit_code == 0

    refused = target.cert("restore", str(archive))

    assert refused.exit_code == 1
    assert "not empty" in refused.output and "--force" in refused.output
    assert count(target.db.engine, "organisations") == 1
    assert files(target.upload_dir) == {}
    forced = target.cert("restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    assert snapshot(target.db.engine) == snapshot(vigie.db.engine)  # replaced, not added to
    again = target.cert("restore", "--force", str(archive))
    assert again.exit_code == 0, again.output
    assert snapshot(target.db.engine) == snapshot(vigie.db.engine)


def test_another_secret_key_is_detected_before_anything_is_written(source, target: Vigie) -> None:  # type: ignore[no-untyped-def]
    _vigie, _facts, archive = source
    from tests.kit.backups import OTHER_KEY

    refused = target.cert("restore", str(archive), secret_key=OTHER_KEY)

    assert refused.exit_code == 1
    assert "secret key" in refused.output and "CERT_SECRET_KEY" in refused.output
    assert "Traceback" not in refused.output
    assert holds_rows(target.db.engine) == []
    assert files(target.upload_dir) == {}
    allowed = target.cert("restore", "--allow-key-change", str(archive), secret_key=OTHER_KEY)
    assert allowed.exit_code == 0, allowed.output


def test_the_manifest_describes_the_archive(source) -> None:  # type: ignore[no-untyped-def]
    vigie, _facts, archive = source
    import hashlib

    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        digests = {
            n: hashlib.sha256(tar.extractfile(n).read()).hexdigest()  # type: ignore[union-attr]
            for n in names
            if n != "manifest.json"
        }
    assert manifest["format"] == "vigie-backup" and manifest["format_version"] == 1
    assert manifest["alembic_revision"] == schema.head_revision()
    assert manifest["source_backend"] == vigie.db.backend
    assert manifest["created_at"].endswith("Z")
    assert manifest["vigie_version"]
    expected = snapshot(vigie.db.engine)
    assert manifest["row_counts"] == {t: len(r) for t, r in expected.items()}
    assert {n: m["sha256"] for n, m in manifest["members"].items()} == digests
    assert [t["name"] for t in manifest["tables"]] == [
        t.name for t in Base.metadata.sorted_tables if not t.name.startswith("fts_")
    ]
    assert "secret key" in manifest["left_out"] and "fts_*" in manifest["left_out"]
    assert not any(n.startswith("fts_") or "alembic" in n for n in names)
