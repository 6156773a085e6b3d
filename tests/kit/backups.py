"""Helpers of the backup tests (tests/cert/test_backup*.py): a seeded Vigie (``cert demo`` plus
what the demo lacks — an attachment on disk, a user enrolled in TOTP, a sealed queued message,
a self-reference to a later row, binary bytes), the ``cert`` command against it, a generic
comparison of every table of the schema, and archives rewritten into hostile ones."""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from cert.backup.tables import dumped_tables
from cert.cli import COMMAND_MODULES, cli
from core.auth import mfa
from core.clock import SystemClock
from core.db import Base
from core.identity.models import Role, User
from core.jobs import apscheduler_jobs
from incidents.intake.attachments import add_attachment
from incidents.models import Incident
from tests.dbs import TestDatabase
from tests.kit.factories import PHISHING, actor_of, make_user, report

for _name in COMMAND_MODULES:
    importlib.import_module(f"cert.cli.{_name}")

SECRET_KEY = "backup-tests-secret-key-" + "k" * 24
OTHER_KEY = "another-instance-secret-" + "z" * 24
# a word no demo incident uses: the search after a restore must find the incident that has it
MARKER = "Zanzibarite"
ATTACHMENT = bytes(range(256)) * 40 + b"\x00binary tail\xff"
TEXT_ATTACHMENT = b"journal du pare-feu : connexion depuis 203.0.113.77\n"


@dataclass
class Vigie:
    """One instance: its database, its upload directory and its environment."""

    db: TestDatabase
    home: Path

    @property
    def upload_dir(self) -> Path:
        return self.home / "uploads"

    def env(self, secret_key: str = SECRET_KEY) -> dict[str, str]:
        return {
            "CERT_DATABASE_URL": self.db.url,
            "CERT_INSTANCE_DIR": str(self.home),
            "CERT_UPLOAD_DIR": str(self.upload_dir),
            "CERT_SECRET_KEY": secret_key,
            "CERT_ARGON2_TIME_COST": "1",
            "CERT_ARGON2_MEMORY_KIB": "47104",
            "CERT_ARGON2_PARALLELISM": "1",
        }

    def cert(self, *args: str, secret_key: str = SECRET_KEY) -> Result:
        return CliRunner().invoke(cli, list(args), env=self.env(secret_key))


def seed(vigie: Vigie) -> dict[str, Any]:
    """``cert demo`` and the rest; what the tests look for afterwards."""
    result = vigie.cert("demo")
    assert result.exit_code == 0, result.output
    result = vigie.cert("users", "send-link", "--email", "rssi@interieur.gov.ma")
    assert result.exit_code == 0, result.output  # a sealed message waits in the outbox
    clock = SystemClock()
    with Session(vigie.db.engine) as session:
        reporter = session.scalars(select(User).where(User.email == "rssi@interieur.gov.ma")).one()
        analyst = make_user(
            session, clock, role=Role.ANALYST, email="restore.analyst@macert.gov.ma"
        )
        enrolled = make_user(session, clock, role=Role.LEAD, email="restore.totp@macert.gov.ma")
        totp = pyotp.random_base32()
        enrolled.totp_secret = mfa.sealer(SECRET_KEY).seal(totp)
        enrolled.mfa_enrolled_at = clock.now()
        incident = report(session, clock, reporter, PHISHING, title=f"Fuite {MARKER} au ministère")
        for name, data in (("capture.bin", ATTACHMENT), ("journal.txt", TEXT_ATTACHMENT)):
            add_attachment(
                session,
                actor_of(reporter),
                incident,
                filename=name,
                stream=io.BytesIO(data),
                clock=clock,
                upload_dir=vigie.upload_dir,
                max_bytes=1 << 20,
            )
        first = session.scalars(select(Incident).order_by(Incident.id)).first()
        assert first is not None and first.id < incident.id
        # a self-reference to a later row: the restore must set it once both rows exist
        session.execute(
            update(Incident).where(Incident.id == first.id).values(duplicate_of_id=incident.id)
        )
        session.execute(
            apscheduler_jobs.insert().values(
                id="backup-test", next_run_time=1.5, job_state=ATTACHMENT
            )
        )
        session.commit()
        return {
            "reference": incident.reference,
            "analyst": analyst.email,
            "totp": totp,
            "attachment_sha": hashlib.sha256(ATTACHMENT).hexdigest(),
        }


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema, in key order (a table added later is in it)."""
    rows = {}
    with engine.connect() as conn:
        for table in dumped_tables(Base.metadata):
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return rows


def files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path → bytes)."""
    found = {}
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = Path(root) / name
            found[path.relative_to(directory).as_posix()] = path.read_bytes()
    return found


def holds_rows(engine: Engine) -> list[str]:
    from cert.backup.tables import holds_data

    with engine.connect() as conn:
        return holds_data(conn, Base.metadata)


def rewrite(
    source: Path,
    target: Path,
    change: Callable[[list[tuple[tarfile.TarInfo, bytes]]], list[tuple[tarfile.TarInfo, bytes]]],
) -> Path:
    """A copy of archive ``source`` whose members went through ``change``."""
    with tarfile.open(source, "r:gz") as archive:
        members = []
        for info in archive.getmembers():
            stream = archive.extractfile(info)
            members.append((info, stream.read() if stream else b""))
    with tarfile.open(target, "w:gz") as archive:
        for info, data in change(members):
            info.size = len(data) if info.isreg() else 0
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return target


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)  # noqa: S608
