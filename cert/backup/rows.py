"""Reading a table member back: one JSON array per line, decoded by the manifest's column kinds."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from typing import Any

from cert.backup import BackupError
from cert.backup.archive import TableEntry
from cert.backup.codec import KINDS, decode


def check_kinds(entry: TableEntry) -> None:
    for name, kind in entry.columns:
        if kind not in KINDS:
            raise BackupError(
                f"manifest.json: column {entry.name}.{name} has unknown kind {kind!r}"
            )


def read_rows(
    archive: tarfile.TarFile, member: tarfile.TarInfo, entry: TableEntry
) -> Iterator[dict[str, Any]]:
    """The rows of ``entry`` as column → value (a malformed line is a :class:`BackupError`)."""
    stream = archive.extractfile(member)
    if stream is None:
        raise BackupError(f"member {member.name} cannot be read")
    width = len(entry.columns)
    for number, line in enumerate(stream, start=1):
        try:
            values = json.loads(line)
            if not isinstance(values, list) or len(values) != width:
                raise ValueError(f"expected {width} values")
            yield {
                name: decode(kind, value)
                for (name, kind), value in zip(entry.columns, values, strict=True)
            }
        except (ValueError, TypeError) as exc:
            raise BackupError(f"{member.name}, line {number}: malformed row ({exc})") from exc


def members_of(
    archive: tarfile.TarFile, wanted: dict[str, TableEntry]
) -> Iterator[tuple[tarfile.TarInfo, TableEntry]]:
    """The members of ``wanted`` in the order the archive holds them (one sequential read)."""
    for member in archive:
        entry = wanted.get(member.name)
        if entry is not None:
            yield member, entry
