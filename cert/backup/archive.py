"""The archive itself: its members, its manifest, and reading it as hostile input.

A restore trusts nothing in the file before :func:`verify` has read it whole: every member must
be a regular file with a plain relative name (no ``..``, no absolute path, no link, device or
directory entry), named in the manifest, once, with the SHA-256 and size the manifest gives; the
manifest must be of this format. A corrupt or truncated gzip stream is an error, never a
traceback."""

from __future__ import annotations

import hashlib
import json
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cert.backup import BackupError

FORMAT = "vigie-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_DIR = "database"
UPLOADS_DIR = "uploads"
CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 64 << 20


@dataclass(frozen=True)
class TableEntry:
    name: str
    member: str
    rows: int
    columns: list[tuple[str, str]]  # (name, kind)


@dataclass(frozen=True)
class Manifest:
    raw: dict[str, Any]
    revision: str
    source_backend: str
    tables: list[TableEntry]
    members: dict[str, tuple[str, int]]  # member → (sha256, size)

    @property
    def files(self) -> list[str]:
        return sorted(m for m in self.members if m.startswith(UPLOADS_DIR + "/"))


def table_member(position: int, table: str) -> str:
    return f"{DATABASE_DIR}/{position:03d}-{table}.jsonl"


def upload_member(relative: PurePosixPath) -> str:
    return f"{UPLOADS_DIR}/{relative.as_posix()}"


def safe_name(name: str) -> str | None:
    """Why member ``name`` may not be written anywhere, or None when it is a plain relative path."""
    if not name or "\\" in name or "\x00" in name:
        return "an empty name or a backslash"
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        return "an absolute path"
    if any(part in ("..", ".", "") for part in name.split("/")):
        return "a '..' or '.' component"
    return None


@contextmanager
def reading(path: Path) -> Iterator[tarfile.TarFile]:
    """The archive opened for reading; a file that is not a gzip tar is a :class:`BackupError`."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        archive = tarfile.open(path, mode="r:gz")  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path}: not a Vigie backup (not a gzip tar archive: {exc})") from exc
    try:
        yield archive
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path}: the archive is corrupt or truncated ({exc})") from exc
    except OSError as exc:  # gzip.BadGzipFile and friends
        raise BackupError(f"{path}: the archive is corrupt or truncated ({exc})") from exc
    finally:
        archive.close()


def _digest(stream: IO[bytes]) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def verify(path: Path) -> Manifest:
    """Read the whole archive once: every member checked (name, type, SHA-256, size) against the
    manifest. Nothing is written. The manifest, or a :class:`BackupError` saying what is wrong."""
    seen, manifest_bytes = _read_members(path)
    if manifest_bytes is None:
        raise BackupError(f"{path}: not a Vigie backup (no {MANIFEST})")
    manifest = parse_manifest(manifest_bytes)
    missing = sorted(set(manifest.members) - set(seen))
    if missing:
        raise BackupError(f"incomplete archive: missing member(s) {', '.join(missing[:5])}")
    extra = sorted(set(seen) - set(manifest.members))
    if extra:
        raise BackupError(f"refused: member(s) not in the manifest: {', '.join(extra[:5])}")
    for name, (sha, size) in manifest.members.items():
        if seen[name] != (sha, size):
            raise BackupError(
                f"checksum mismatch: {name} does not have the SHA-256 and size the manifest "
                "gives (altered or damaged archive)"
            )
    return manifest


def _read_members(path: Path) -> tuple[dict[str, tuple[str, int]], bytes | None]:
    """Each member's SHA-256 and size, and the manifest's bytes; refused at the first member
    that is not a regular file of a plain relative name, or appears twice."""
    seen: dict[str, tuple[str, int]] = {}
    manifest_bytes: bytes | None = None
    with reading(path) as archive:
        for member in archive:
            problem = safe_name(member.name)
            if problem:
                raise BackupError(f"refused: member {member.name!r} has {problem}")
            if not member.isreg():
                raise BackupError(
                    f"refused: member {member.name!r} is not a regular file (links, devices and "
                    "directories are never restored)"
                )
            if member.name in seen or (member.name == MANIFEST and manifest_bytes is not None):
                raise BackupError(f"refused: member {member.name!r} appears twice")
            stream = archive.extractfile(member)
            if stream is None:
                raise BackupError(f"refused: member {member.name!r} cannot be read")
            if member.name != MANIFEST:
                seen[member.name] = _digest(stream)
            elif member.size > MAX_MANIFEST_BYTES:
                raise BackupError("refused: manifest.json is too large")
            else:
                manifest_bytes = stream.read()
    return seen, manifest_bytes


def parse_manifest(data: bytes) -> Manifest:
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BackupError("not a Vigie backup (manifest.json of another format)")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise BackupError(
                f"backup format version {version!r}: this Vigie reads version {FORMAT_VERSION}"
            )
        tables = [
            TableEntry(
                name=str(t["name"]),
                member=str(t["member"]),
                rows=int(t["rows"]),
                columns=[(str(c["name"]), str(c["kind"])) for c in t["columns"]],
            )
            for t in raw["tables"]
        ]
        members = {str(k): (str(v["sha256"]), int(v["size"])) for k, v in raw["members"].items()}
        manifest = Manifest(
            raw=raw,
            revision=str(raw["alembic_revision"]),
            source_backend=str(raw["source_backend"]),
            tables=tables,
            members=members,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"manifest.json is malformed ({type(exc).__name__}: {exc})") from exc
    for name in members:
        if safe_name(name) or not name.startswith((DATABASE_DIR + "/", UPLOADS_DIR + "/")):
            raise BackupError(f"refused: manifest names member {name!r}")
    for table in tables:
        if table.member not in members:
            raise BackupError(f"manifest.json: table {table.name} has no member")
    return manifest
