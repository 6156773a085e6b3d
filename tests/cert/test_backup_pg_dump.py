"""The guide's alternative for large databases (docs/operations.md, "pg_dump"): ``pg_dump -Fc`` of
the database and a tarball of the upload directory, restored with ``pg_restore`` into another
database and ``tar -x``: the application works on the copy (sign-in, search, attachment)."""

from __future__ import annotations

import io
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cert.app import create_app
from core.clock import SystemClock
from core.db import make_engine
from core.identity.models import Role
from incidents.intake.attachments import add_attachment
from tests.dbs import POSTGRES_URL, TestDatabase, create_database, postgres_or_skip
from tests.kit.backups import ATTACHMENT, MARKER, SECRET_KEY, Vigie
from tests.kit.config import SUITE_SETTINGS
from tests.kit.factories import PASSWORD, PHISHING, actor_of, make_org, make_user, report
from tests.kit.web import login


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it (no driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[TestDatabase]:
    postgres_or_skip()
    for tool in ("pg_dump", "pg_restore", "tar"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (postgresql-client, tar)")
    db = create_database("postgresql", tmp_path)
    yield db
    db.drop()


@pytest.fixture
def other_database() -> Iterator[str]:
    """An empty database of its own on the same server; its name."""
    name = f"vigie_restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    # the test dumps one schema (-n), which leaves out the extensions a whole-database dump of
    # production carries (pg_trgm, created by migration 0004 in the public schema)
    created = make_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(False))
    with created.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    created.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_pg_dump_and_the_upload_tarball_restore_a_working_vigie(
    source: TestDatabase, other_database: str, tmp_path: Path
) -> None:
    vigie = Vigie(source, tmp_path / "source")
    clock = SystemClock()
    with Session(source.engine) as session:
        ministry = make_org(session, clock, slug="interieur")
        reporter = make_user(session, clock, org=ministry)
        analyst = make_user(session, clock, role=Role.ANALYST, email="pgdump.analyst@macert.gov.ma")
        incident = report(session, clock, reporter, PHISHING, title=f"Rançongiciel {MARKER}")
        add_attachment(
            session,
            actor_of(reporter),
            incident,
            filename="capture.bin",
            stream=io.BytesIO(ATTACHMENT),
            clock=clock,
            upload_dir=vigie.upload_dir,
            max_bytes=1 << 20,
        )
        session.commit()
        reference, analyst_email = incident.reference, analyst.email
    dump, uploads = tmp_path / "vigie.dump", tmp_path / "uploads.tar.gz"

    # the guide's commands: the database first, then the files
    subprocess.run(
        ["pg_dump", "-Fc", "-n", str(source.pg_schema), "-f", str(dump), _libpq(POSTGRES_URL)],
        check=True,
    )
    subprocess.run(["tar", "-C", str(vigie.home), "-czf", str(uploads), "uploads"], check=True)
    restored_url = make_url(POSTGRES_URL).set(database=other_database)
    subprocess.run(
        ["pg_restore", "--no-owner", "-d", _libpq(restored_url.render_as_string(False)), str(dump)],
        check=True,
    )
    home = tmp_path / "restored"
    home.mkdir()
    subprocess.run(["tar", "-C", str(home), "-xzf", str(uploads)], check=True)

    url = restored_url.update_query_dict(
        {"options": f"-csearch_path={source.pg_schema}"}
    ).render_as_string(hide_password=False)
    copy = Vigie(TestDatabase("postgresql", url, make_engine(url)), home)
    upgraded = copy.cert("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    app = create_app(
        {
            "testing": True,
            "instance_dir": home,
            "upload_dir": home / "uploads",
            "database_url": url,
            "secret_key": SECRET_KEY,
            "mail_from": "Vigie <cert@example.test>",
            **SUITE_SETTINGS,
        }
    )
    try:
        client = app.test_client()
        assert login(client, analyst_email, PASSWORD).status_code == 302
        assert reference in client.get(f"/queue?q={MARKER}").get_data(as_text=True)
        page = client.get(f"/incidents/{reference}")
        assert page.status_code == 200 and "capture.bin" in page.get_data(as_text=True)
        with copy.db.engine.connect() as conn:
            attachment_id = conn.scalar(
                text("SELECT id FROM incident_attachments WHERE filename = 'capture.bin'")
            )
        download = client.get(f"/incidents/{reference}/attachments/{attachment_id}")
        assert download.data == ATTACHMENT
        download.close()
    finally:
        app.extensions["vigie"].session_factory.kw["bind"].dispose()
        copy.db.engine.dispose()
