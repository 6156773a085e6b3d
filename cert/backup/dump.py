"""``cert backup``: the database (one consistent read) and the uploads into one archive."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from stat import S_ISREG
from typing import IO, Any

from sqlalchemy import Connection, Engine, MetaData, select, text
from sqlalchemy.exc import SQLAlchemyError

from cert.backup import BackupError
from cert.backup.archive import FORMAT, FORMAT_VERSION, MANIFEST, table_member, upload_member
from cert.backup.codec import column_kind, encoder
from cert.backup.tables import LEFT_OUT, dumped_tables
from cert.schema import head_revision

READ_BATCH = 2000
# temporary files of the upload code (intake's ".upload-…part"): half-written, never restored
_PARTIAL_SUFFIX = ".part"


@dataclass
class BackupSummary:
    path: Path
    revision: str
    backend: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    size: int = 0


def vigie_version() -> str:
    try:
        return importlib.metadata.version("vigie")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class _Hashing(io.RawIOBase):
    """A file object that hashes what is read through it (a member going into the tar)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.sha.update(data)
        return data


def backup(
    engine: Engine,
    metadata: MetaData,
    upload_dir: Path,
    output: Path,
    *,
    force: bool = False,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> BackupSummary:
    """Write the archive to ``output`` (through a temporary file renamed at the end)."""
    output = output.absolute()
    if output.exists() and not force:
        raise BackupError(f"{output} exists: give another --output, or --force to replace it")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent}: no such directory")
    if upload_dir.exists() and output.resolve().is_relative_to(upload_dir.resolve()):
        raise BackupError("--output must not be inside CERT_UPLOAD_DIR (it would back itself up)")
    fd, temp_name = tempfile.mkstemp(dir=output.parent, prefix=".vigie-backup-", suffix=".part")
    temp = Path(temp_name)
    try:
        os.fchmod(fd, 0o600)  # password and token hashes, reports: for the operators only
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as archive,
        ):
            members: dict[str, dict[str, Any]] = {}
            try:
                summary, tables = _database(engine, metadata, archive, members, output)
            except SQLAlchemyError as exc:
                raise BackupError(f"the database cannot be read: {_first_line(exc)}") from exc
            _uploads(upload_dir, archive, members, summary)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "vigie_version": vigie_version(),
                "alembic_revision": summary.revision,
                "source_backend": summary.backend,
                "created_at": clock().astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "tables": tables,
                "row_counts": summary.rows,
                "files": {"count": summary.files, "bytes": summary.file_bytes},
                "left_out": {
                    **LEFT_OUT,
                    "secret key": "CERT_SECRET_KEY / instance/secret_key "
                    "is never in a backup: keep it apart; a restore needs it",
                },
                "members": members,
            }
            data = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
            _add(archive, MANIFEST, io.BytesIO(data), len(data))
        os.replace(temp, output)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    summary.path = output
    summary.size = output.stat().st_size
    return summary


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig) if orig is not None else str(exc)).splitlines()[0]


def _add(archive: tarfile.TarFile, name: str, stream: IO[bytes], size: int) -> str:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    hashing = _Hashing(stream)
    archive.addfile(info, hashing)
    return hashing.sha.hexdigest()


def _database(
    engine: Engine,
    metadata: MetaData,
    archive: tarfile.TarFile,
    members: dict[str, dict[str, Any]],
    output: Path,
) -> tuple[BackupSummary, list[dict[str, Any]]]:
    """Every table, read in one transaction (PostgreSQL: REPEATABLE READ, read only — one
    snapshot while the application goes on writing; SQLite: one read transaction of WAL)."""
    backend = engine.dialect.name
    isolation = {"isolation_level": "REPEATABLE READ"} if backend == "postgresql" else {}
    with engine.connect().execution_options(**isolation) as conn, conn.begin():
        if backend == "postgresql":
            conn.execute(text("SET TRANSACTION READ ONLY"))
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
        if revision is None:
            raise BackupError("the database has no schema: nothing to back up")
        if revision != head_revision():
            raise BackupError(
                f"the database is at revision {revision}, this Vigie at {head_revision()}: "
                "run `cert db upgrade` first (or back up with the Vigie that matches it)"
            )
        summary = BackupSummary(path=output, revision=str(revision), backend=backend)
        tables = []
        for position, table in enumerate(dumped_tables(metadata), start=1):
            columns = [(c.name, column_kind(c)) for c in table.columns]
            member = table_member(position, table.name)
            rows = _table(conn, table, columns, archive, member, members, output.parent)
            summary.rows[table.name] = rows
            tables.append(
                {
                    "name": table.name,
                    "member": member,
                    "rows": rows,
                    "columns": [{"name": n, "kind": k} for n, k in columns],
                }
            )
    return summary, tables


def _table(
    conn: Connection,
    table: Any,
    columns: list[tuple[str, str]],
    archive: tarfile.TarFile,
    member: str,
    members: dict[str, dict[str, Any]],
    scratch: Path,
) -> int:
    """One table as JSON lines in a temporary file (a tar member's size comes first), then into
    the archive."""
    order = list(table.primary_key.columns) or list(table.columns)
    query = select(table).order_by(*order)
    count = 0
    with tempfile.TemporaryFile(dir=scratch, prefix=".vigie-backup-") as spool:
        result = conn.execution_options(yield_per=READ_BATCH).execute(query)
        encoders = [encoder(kind) for _, kind in columns]
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for row in result:
            values = [
                encode_value(value) for encode_value, value in zip(encoders, row, strict=True)
            ]
            spool.write(dumps(values).encode() + b"\n")
            count += 1
        size = spool.tell()
        spool.seek(0)
        members[member] = {"sha256": _add(archive, member, spool, size), "size": size}
    return count


def _uploads(
    upload_dir: Path,
    archive: tarfile.TarFile,
    members: dict[str, dict[str, Any]],
    summary: BackupSummary,
) -> None:
    """Every regular file under the upload directory (links are not followed nor kept)."""
    if not upload_dir.is_dir():
        return
    for directory, dirs, names in os.walk(upload_dir, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if name.endswith(_PARTIAL_SUFFIX) and name.startswith("."):
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except (FileNotFoundError, OSError):
                continue  # a link (not followed), or removed since listed (a discarded upload)
            with os.fdopen(fd, "rb") as stream:
                stat = os.fstat(stream.fileno())
                if not S_ISREG(stat.st_mode):
                    continue
                member = upload_member(PurePosixPath(path.relative_to(upload_dir).as_posix()))
                sha = _add(archive, member, stream, stat.st_size)
            members[member] = {"sha256": sha, "size": stat.st_size}
            summary.files += 1
            summary.file_bytes += stat.st_size
