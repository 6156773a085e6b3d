"""``cert restore``: the archive verified whole, then the database in one transaction, then files.

Order: (1) the archive is read and checked whole (:func:`cert.backup.archive.verify`), (2) its
revision must be one this code knows, (3) its sealed values must open with this instance's secret
key, (4) the database must hold no data (``force``: it is emptied inside the load's transaction)
and is migrated to the archive's revision, (5) the files are written to a staging directory
inside the upload directory, (6) every table is emptied and loaded, sequences and the search index
set, in one transaction, (7) once committed, the staged files are moved into place. A failure
before (7) leaves the database and the upload directory as they were."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from cert import schema
from cert.backup import BackupError
from cert.backup.archive import UPLOADS_DIR, Manifest, reading, verify
from cert.backup.keys import check_secret_key
from cert.backup.load import load_tables
from cert.backup.rows import check_kinds
from cert.backup.tables import holds_data
from core.db import refresh_statistics

FILE_MODE, DIR_MODE = 0o640, 0o750


@dataclass
class RestoreSummary:
    revision: str
    source_backend: str
    created_at: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    sealed_checked: int = 0
    migrated: bool = False
    not_analysed: list[str] = field(default_factory=list)


def restore(
    engine: Engine,
    metadata: MetaData,
    upload_dir: Path,
    path: Path,
    *,
    secret_key: str,
    force: bool = False,
    allow_key_change: bool = False,
) -> RestoreSummary:
    manifest = verify(path)
    for entry in manifest.tables:
        check_kinds(entry)
    _known_revision(manifest.revision)
    summary = RestoreSummary(
        revision=manifest.revision,
        source_backend=manifest.source_backend,
        created_at=str(manifest.raw.get("created_at", "")),
    )
    if not allow_key_change:
        with reading(path) as archive:
            summary.sealed_checked = check_secret_key(archive, manifest, secret_key)
    summary.migrated = _prepare_schema(engine, metadata, manifest, force=force)
    upload_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    staging = Path(tempfile.mkdtemp(dir=upload_dir, prefix=".restore-"))
    try:
        with reading(path) as archive:
            for member in archive:
                if member.name.startswith(UPLOADS_DIR + "/"):
                    _stage(archive, member, staging)
                    summary.files += 1
                    summary.file_bytes += member.size
        with reading(path) as archive:
            try:
                with engine.begin() as conn:
                    summary.rows = load_tables(conn, archive, manifest, metadata)
            except DBAPIError as exc:
                reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
                raise BackupError(
                    f"the archive's rows could not be written ({reason}); nothing was restored"
                ) from exc
        _place(staging, upload_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary.not_analysed = _statistics(engine, [t for t, rows in summary.rows.items() if rows])
    return summary


def _known_revision(revision: str) -> None:
    script = ScriptDirectory.from_config(schema.alembic_config())
    try:
        known = script.get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown or malformed id
        known = None
    if known is None:
        raise BackupError(
            f"the archive is at revision {revision}, unknown to this Vigie (head "
            f"{schema.head_revision()}): it comes from a newer version; restore it with that "
            "version or a later one"
        )


def _descends(revision: str, ancestor: str) -> bool:
    script = ScriptDirectory.from_config(schema.alembic_config())
    return any(r.revision == ancestor for r in script.iterate_revisions(revision, "base"))


def _prepare_schema(engine: Engine, metadata: MetaData, manifest: Manifest, *, force: bool) -> bool:
    """Check that the database may receive the archive, and migrate it to its revision."""
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            current = schema.current_revision(engine) if "alembic_version" in tables else None
            if current is None and tables - {"alembic_version"}:
                raise BackupError(
                    "the database holds tables but no Alembic revision: restore into an empty "
                    "database"
                )
            filled = holds_data(conn, metadata) if current is not None else []
        if filled and not force:
            more = "…" if len(filled) > 5 else ""
            raise BackupError(
                f"the database is not empty ({', '.join(filled[:5])}{more} hold rows): restore "
                "into an empty database, or give --force to replace everything in it"
            )
        if current == manifest.revision:
            return False
        if current is not None and not _descends(manifest.revision, current):
            raise BackupError(
                f"the database is at revision {current}, the archive at {manifest.revision}: "
                "restore into an empty database (a restore never downgrades a schema)"
            )
        schema.upgrade(engine, manifest.revision)
        return True
    except SQLAlchemyError as exc:
        raise BackupError(f"the database cannot be prepared: {exc}") from exc


def _stage(archive: tarfile.TarFile, member: tarfile.TarInfo, staging: Path) -> None:
    relative = PurePosixPath(member.name).relative_to(UPLOADS_DIR)
    target = staging.joinpath(*relative.parts)
    if not target.resolve().is_relative_to(staging.resolve()):
        raise BackupError(f"refused: member {member.name!r} points outside the upload directory")
    target.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    stream = archive.extractfile(member)
    if stream is None:
        raise BackupError(f"member {member.name} cannot be read")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)


def _place(staging: Path, upload_dir: Path) -> None:
    """Move the staged files into the upload directory (same file system: renames)."""
    root = upload_dir.resolve()
    for directory, _dirs, names in os.walk(staging):
        for name in names:
            source = Path(directory) / name
            target = upload_dir / source.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            if not target.parent.resolve().is_relative_to(root):
                raise BackupError(f"refused: {target.parent} leads outside the upload directory")
            os.replace(source, target)


def _statistics(engine: Engine, tables: list[str]) -> list[str]:
    """Planner statistics for the tables just loaded (PostgreSQL: ANALYZE of each, alone; SQLite:
    the tables whose statistics no longer describe them). Best effort, after the commit: a table
    whose ANALYZE fails (a lock held by autovacuum, a deadlock) is left to autovacuum; its name
    is returned."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            refresh_statistics(conn)
        return []
    skipped = []
    for table in tables:  # the restored tables only, not every schema of the database
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table)}")
        except SQLAlchemyError:
            skipped.append(table)
    return skipped
